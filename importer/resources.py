"""django-import-export resources of the importer: saved mappings, exported formula-safe."""

from config.resources import FormulaSafeResource
from importer.models import ImportTemplate


class ImportTemplateResource(FormulaSafeResource):
    """Saved column mappings, to move them between installations."""

    class Meta:
        model = ImportTemplate
        import_id_fields = ["name"]
        fields = ["name", "kind", "description", "mapping", "on_error", "encoding", "delimiter",
                  "sheet"]  # fmt: skip
