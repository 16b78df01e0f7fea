"""Structured logging: structlog for the project's own loggers, the same renderer for stdlib."""

import logging

import structlog

PII_KEYS = frozenset({"email", "username"})


def mask_pii(_logger, _method, event_dict: dict) -> dict:
    """Mask personal data that slipped into a log call (SPEC §3: PII is masked in logs)."""
    for key in PII_KEYS & event_dict.keys():
        value = str(event_dict[key] or "")
        event_dict[key] = f"{value[:1]}***" if value else value
    return event_dict


SHARED_PROCESSORS = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso"),
    mask_pii,
]

structlog.configure(
    processors=[*SHARED_PROCESSORS, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
    logger_factory=structlog.stdlib.LoggerFactory(),
    cache_logger_on_first_use=True,
)


def formatter(json: bool = True) -> logging.Formatter:
    renderer = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    return structlog.stdlib.ProcessorFormatter(
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        foreign_pre_chain=SHARED_PROCESSORS,
    )
