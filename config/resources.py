"""The base of every django-import-export resource: exports are formula-safe (SPEC §9)."""

from import_export import resources

from config.spreadsheets import formula_safe


class FormulaSafeResource(resources.ModelResource):
    def export_field(self, field, instance, **kwargs):
        return formula_safe(super().export_field(field, instance, **kwargs))
