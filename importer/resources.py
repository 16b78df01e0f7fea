"""django-import-export resources of the importer: saved mappings and lookups, exported
formula-safe, to move them between installations."""

from config.resources import FormulaSafeResource
from importer.models import READING_OPTIONS, ImportLookup, ImportTemplate


class ImportTemplateResource(FormulaSafeResource):
    """Saved column mappings with their reading options (separators, header row, dates, …)."""

    class Meta:
        model = ImportTemplate
        import_id_fields = ["name"]
        fields = ["name", "kind", "description", "mapping", "on_error", *READING_OPTIONS]


class ImportLookupResource(FormulaSafeResource):
    """Saved value maps, which templates name in their mapping (`"lookup": "<name>"`)."""

    class Meta:
        model = ImportLookup
        import_id_fields = ["name"]
        fields = ["name", "description", "values"]
