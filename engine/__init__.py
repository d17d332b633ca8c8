"""The queue's moving parts: workers per backend, image files, and the events they emit."""

from .background import BackgroundTasks
from .events import JobEvents, NoEvents
from .images import ImageStore
from .params import GenerationParams
from .service import Backend, QueueService
from .worker import BackendWorker

__all__ = [
    "Backend",
    "BackendWorker",
    "BackgroundTasks",
    "GenerationParams",
    "ImageStore",
    "JobEvents",
    "NoEvents",
    "QueueService",
]
