import os

from django.apps import AppConfig


class ImporterConfig(AppConfig):
    name = "importer"
    verbose_name = "Spreadsheet and CSV imports"

    def ready(self) -> None:
        import importer.tasks  # noqa: F401  (registers the stage task by name in every process)

        arrow_memory_pool()


def arrow_memory_pool() -> None:
    """Give Arrow's buffers to the system allocator (unless ARROW_DEFAULT_MEMORY_POOL names
    one). Arrow's default pool (mimalloc) keeps freed pages for reuse: a worker that imported a
    1,000,000-row CSV peaked at 405-416 MB with it and 337 MB with the system allocator, the
    same work (bench/importer.py; the target is 400 MB)."""
    if not os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        import pyarrow

        pyarrow.set_memory_pool(pyarrow.system_memory_pool())
