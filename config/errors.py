"""The one domain error type. Services raise it; the API and the admin show its message."""


class DomainError(Exception):
    """A refused operation with a stable machine-readable `code` (e.g. `insufficient_funds`)."""

    status_code = 400

    def __init__(self, code: str, message: str, *, details: dict | None = None, status: int = 0):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or {}
        if status:
            self.status_code = status
