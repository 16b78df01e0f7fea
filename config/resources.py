"""The base of every django-import-export resource: exports are formula-safe (SPEC §9)."""

from import_export import resources

from config.spreadsheets import formula_safe


class FormulaSafeResource(resources.ModelResource):
    """Text cells neutralised against formula injection (config/spreadsheets.py). `show_pii`:
    whether personal data is exported in full (the exporting user's role, config/roles.py);
    resources with personal data mask it otherwise."""

    def __init__(self, show_pii: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.show_pii = show_pii

    def export_field(self, field, instance, **kwargs):
        return formula_safe(super().export_field(field, instance, **kwargs))
