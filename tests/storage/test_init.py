"""Tests for the public names of the storage package."""

from __future__ import annotations

import storage


def test_all_lists_public_names() -> None:
    assert storage.__all__ == [
        "CooldownError",
        "DatabaseLockedError",
        "InvalidJobError",
        "InvalidTransitionError",
        "Job",
        "JobNotFoundError",
        "JobStatus",
        "JobStore",
        "NewJob",
        "QueueLimitError",
        "RecoveryReport",
        "SQLiteVersionError",
        "SchedulingPolicy",
        "SchemaVersionError",
        "StorageError",
        "UserPrefs",
    ]
    assert storage.__all__ == sorted(storage.__all__)
    for name in storage.__all__:
        assert getattr(storage, name) is not None


def test_errors_share_base_class() -> None:
    for name in storage.__all__:
        value = getattr(storage, name)
        if name.endswith("Error") and name != "StorageError":
            assert issubclass(value, storage.StorageError), name
