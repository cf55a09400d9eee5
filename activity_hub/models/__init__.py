"""Data model. One module per area so each stays small; import models from here."""

from .activity import Activity, GitHubEvent
from .imports import ImportBatch, ImportFile, ImportRow
from .integration import Integration, SyncRun
from .user import User

__all__ = ["Activity", "GitHubEvent", "ImportBatch", "ImportFile", "ImportRow", "Integration", "SyncRun", "User"]
