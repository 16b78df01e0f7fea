from django.apps import AppConfig


class ImporterConfig(AppConfig):
    name = "importer"
    verbose_name = "Spreadsheet and CSV imports"

    def ready(self) -> None:
        import importer.tasks  # noqa: F401  (registers the stage task by name in every process)
