"""Named application errors. Each carries its HTTP status and, for sockets, a close code."""

from __future__ import annotations


class AppError(Exception):
    status = 400
    code = "bad_request"
    close_code = 4400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def to_json(self) -> dict[str, object]:
        body: dict[str, object] = {"code": self.code, "message": self.message}
        if self.field is not None:
            body["field"] = self.field
        return {"error": body}


class InvalidInput(AppError):
    status = 400
    code = "invalid"


class Unauthorized(AppError):
    status = 401
    code = "unauthorized"
    close_code = 4401


class Forbidden(AppError):
    status = 403
    code = "forbidden"
    close_code = 4403


class NotFound(AppError):
    status = 404
    code = "not_found"
    close_code = 4404


class Conflict(AppError):
    status = 409
    code = "conflict"


class PayloadTooLarge(AppError):
    """413: the request, or the files it attaches, pass a limit."""

    status = 413
    code = "too_large"


class UnsupportedMediaType(AppError):
    status = 415
    code = "unsupported_media_type"


class Unprocessable(AppError):
    status = 422
    code = "unprocessable"


class UnknownCommand(AppError):
    status = 400
    code = "unknown_command"


class Merged(AppError):
    """The conversation was merged away; `target` is the one that survived."""

    status = 404
    code = "merged"

    def __init__(self, message: str, *, target: str) -> None:
        super().__init__(message)
        self.target = target

    def to_json(self) -> dict[str, object]:
        body = super().to_json()
        error = body["error"]
        assert isinstance(error, dict)
        error["target"] = self.target
        return body


class TooManyRequests(AppError):
    status = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
