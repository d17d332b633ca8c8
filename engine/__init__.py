"""The queue's moving parts: workers per backend, image files, and the events they emit."""

from .background import BackgroundTasks
from .eta import DurationEstimator
from .events import JobEvents, NoEvents
from .images import ImageStore
from .notifier import StatusNotifier
from .pacing import Pacer, PacingLimits
from .params import GenerationParams
from .service import Backend, QueueService
from .status_rules import StatusKind, StatusPolicy, StatusSender, StatusView
from .worker import BackendWorker

__all__ = [
    "Backend",
    "BackendWorker",
    "BackgroundTasks",
    "DurationEstimator",
    "GenerationParams",
    "ImageStore",
    "JobEvents",
    "NoEvents",
    "Pacer",
    "PacingLimits",
    "QueueService",
    "StatusKind",
    "StatusNotifier",
    "StatusPolicy",
    "StatusSender",
    "StatusView",
]
