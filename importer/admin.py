"""Back office for imports: upload with mapping preview, progress bar, error report."""

import json
import os
import uuid

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from import_export.admin import ImportExportModelAdmin

from config.errors import DomainError
from config.jsontext import json_loads
from importer import services
from importer.models import (
    READING_OPTIONS,
    DateOrder,
    ImportJob,
    ImportLookup,
    ImportTemplate,
    Kind,
    OnConflict,
    OnError,
)
from importer.resources import ImportLookupResource, ImportTemplateResource
from importer.uploads import UploadTooLarge, upload_limit_install

PREVIEW_DIR = "imports/preview"


class UploadForm(forms.Form):
    file = forms.FileField(required=False)
    preview_token = forms.CharField(required=False, widget=forms.HiddenInput)
    kind = forms.ChoiceField(choices=Kind.choices)
    template = forms.ModelChoiceField(
        ImportTemplate.objects.order_by("name"), required=False, to_field_name="name"
    )
    mapping = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "cols": 80}),
        help_text='JSON: {"player_id": "UserID", "stakes": ["FO", "LA"], '
        '"currency": {"value": "EUR"}}. Empty: automatic matching (or the template).',
    )
    on_error = forms.ChoiceField(choices=OnError.choices, initial=OnError.REJECT)
    encoding = forms.CharField(required=False, help_text="Empty: detect.")
    delimiter = forms.CharField(required=False, strip=False, help_text="Empty: detect.")
    sheet = forms.CharField(
        required=False, help_text="XLSX: a name or a position from 1; empty: the first sheet."
    )
    header_row = forms.IntegerField(
        required=False, min_value=1, help_text="Row number of the header; empty: the first row."
    )
    decimal_separator = forms.ChoiceField(
        required=False,
        choices=[
            ("", "detect per column"),
            (",", "comma (1.234,56)"),
            (".", "point (1,234.56)"),
        ],  # fmt: skip
    )
    thousands_separator = forms.CharField(required=False, strip=False, max_length=1)
    date_order = forms.ChoiceField(
        required=False, choices=[("", "detect per column"), *DateOrder.choices]
    )
    time_zone = forms.CharField(
        required=False, help_text="Of times without offset; empty: the reporting time zone."
    )
    on_conflict = forms.ChoiceField(
        required=False, choices=OnConflict.choices, initial=OnConflict.REJECT
    )

    def clean_mapping(self):
        text = self.cleaned_data["mapping"].strip()
        if text:
            try:
                json_loads(text)
            except json.JSONDecodeError as exc:
                raise forms.ValidationError(f"Not valid JSON: {exc.msg} at {exc.pos}.") from exc
        return text


# Errors the operator fixes in the form and previews the same file again; after any other
# refusal the kept upload is deleted at once (a refused upload leaves no file behind).
FIXABLE_IN_THE_FORM = {
    "invalid_mapping", "missing_column", "missing_field", "invalid_option", "unknown_sheet",
    "invalid_on_error", "unknown_template", "template_kind_mismatch", "missing_file",
}  # fmt: skip


def mapping_rows(mapping: dict) -> list[dict]:
    """The resolved mapping (`Mapping.as_json()`) as rows for the preview table: each field,
    how it is read (a column, columns summed, a fixed value, an expression; with its lookup,
    date format or value map), from what, and whether it was matched automatically by the
    column's name rather than given in the mapping or the template."""
    auto = set(mapping.get("auto_matched", []))
    rows = []
    for field, source in mapping.get("fields", {}).items():
        if source is None:
            how, shown, extra = "off", "", {}
        elif isinstance(source, str):
            how, shown, extra = "column", source, {}
        elif isinstance(source, list):
            how, shown, extra = "sum", " + ".join(source), {}
        else:
            (how, value), *rest = source.items()
            shown = " + ".join(map(str, value)) if isinstance(value, list) else str(value)
            extra = dict(rest)
        details = ", ".join(f"{key} {json.dumps(value)}" for key, value in extra.items())
        rows.append(
            {"field": field, "how": how, "source": shown, "details": details, "auto": field in auto}
        )
    return rows


def _stash_drop(token: str) -> None:
    try:
        path = _preview_path(token)
    except Http404:
        return
    services.file_release(path)
    if os.path.exists(path):
        os.remove(path)


def _preview_path(token: str) -> str:
    if not token or "/" in token or ".." in token:
        raise Http404
    return os.path.join(settings.MEDIA_ROOT, PREVIEW_DIR, token)


@admin.register(ImportTemplate)
class ImportTemplateAdmin(ImportExportModelAdmin):
    resource_classes = [ImportTemplateResource]
    list_display = ["name", "kind", "on_error", "description", "updated_at"]
    list_filter = ["kind"]
    search_fields = ["name", "description"]

    def save_model(self, request, obj, form, change):
        try:
            parsed = services.mapping_parse(kind=obj.kind, raw=obj.mapping)
            options = services.reading_options(**{n: getattr(obj, n) for n in READING_OPTIONS})
        except DomainError as exc:
            messages.error(request, f"Template not saved as given: {exc.message}")
            raise
        obj.mapping = {k: v for k, v in parsed.as_json().items() if k != "auto_matched"}
        for name, value in options.items():
            setattr(obj, name, value)
        super().save_model(request, obj, form, change)


class ImportLookupForm(forms.ModelForm):
    file = forms.FileField(
        required=False,
        help_text="A two-column CSV or XLSX with a header: value in the file, value stored. "
        "Uploading replaces the values.",
    )

    class Meta:
        model = ImportLookup
        fields = ["name", "description", "values"]

    def clean(self):
        data = super().clean()
        try:
            if data.get("file"):
                data["values"] = services.lookup_values_upload(data["file"])
            elif "values" in data:
                data["values"] = services.lookup_values_check(data["values"])
        except DomainError as exc:
            raise forms.ValidationError(f"{exc.message} ({exc.code})") from exc
        return data


@admin.register(ImportLookup)
class ImportLookupAdmin(ImportExportModelAdmin):
    """Saved value maps (a game type "SL" → "slots", a status "excl" → "self_excluded"),
    exported and imported with the templates that name them."""

    form = ImportLookupForm
    resource_classes = [ImportLookupResource]
    list_display = ["name", "description", "entries", "updated_at"]
    search_fields = ["name", "description"]

    @admin.display(description="entries")
    def entries(self, lookup: ImportLookup) -> int:
        return len(lookup.values or {})


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ["id", "original_name", "kind", "status", "stage", "progress", "rows_rejected",
                    "created_at"]  # fmt: skip
    list_filter = ["kind", "status"]
    # The file fields are shown as links to the admin's own download views: MEDIA_URL is not
    # served (uploaded files hold player data and must not be public).
    readonly_fields = [
        "file_link" if f.name == "file" else "report_link" if f.name == "error_report" else f.name
        for f in ImportJob._meta.fields
    ]  # the progress bar sits at the top of the page (form_top), kept live by a script
    exclude = ["file", "error_report"]
    actions = ["retry"]
    change_form_template = "admin/importer/importjob/change_form.html"
    change_list_template = "admin/importer/importjob/change_list.html"

    def has_add_permission(self, request):
        return False  # uploads go through the upload view (with its mapping preview)

    def get_urls(self):
        return [
            path("upload/", self._upload_entry(), name="importer_upload"),
            path(
                "<int:pk>/errors.csv",
                self.admin_site.admin_view(self.errors_view),
                name="importer_importjob_errors",
            ),
            path(
                "<int:pk>/status.json",
                self.admin_site.admin_view(self.status_view),
                name="importer_importjob_status",
            ),
            path(
                "<int:pk>/file/",
                self.admin_site.admin_view(self.file_view),
                name="importer_importjob_file",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = {**(extra_context or {}), "status_url": None}
        job = self.get_object(request, object_id)
        if job is not None:
            extra["status_url"] = reverse("admin:importer_importjob_status", args=[job.pk])
            extra["progress_html"] = self.progress(job)  # as in the list (a failed job: no bar)
        return super().change_view(request, object_id, form_url, extra)

    @admin.display(description="progress")
    def progress(self, job: ImportJob) -> str:
        if job.status == ImportJob.Status.FAILED:  # nothing was imported: no bar to fill
            return format_html(
                '<strong style="color: var(--error-fg, #ba2121)">failed</strong> at {} '
                "({} / {} rows checked)",
                job.get_stage_display(),
                job.rows_done,
                job.rows_total,
            )
        return format_html(
            '<progress max="100" value="{}" title="{} / {} rows"></progress> {}%',
            job.progress_percent,
            job.rows_done,
            job.rows_total,
            job.progress_percent,
        )

    @admin.display(description="file")
    def file_link(self, job: ImportJob) -> str:
        if not job.file:
            return "-"
        url = reverse("admin:importer_importjob_file", args=[job.pk])
        return format_html('<a href="{}">{}</a>', url, job.original_name or job.file.name)

    @admin.display(description="error report")
    def report_link(self, job: ImportJob) -> str:
        if not job.error_report:
            return "-"
        url = reverse("admin:importer_importjob_errors", args=[job.pk])
        return format_html('<a href="{}">Download errors (CSV)</a>', url)

    @admin.action(description="Run again (no duplicates are created)", permissions=["change"])
    def retry(self, request, queryset):
        for job in queryset.exclude(status=ImportJob.Status.SUCCEEDED):
            services.import_job_retry(job=job)
        messages.success(request, "Queued again.")

    def _download(self, request, pk: int, field: str, filename) -> FileResponse:
        job = get_object_or_404(ImportJob, pk=pk)
        if not self.has_view_permission(request, job):
            raise PermissionDenied
        stored = getattr(job, field)
        if not stored or not stored.storage.exists(stored.name):
            raise Http404
        return FileResponse(stored.open("rb"), as_attachment=True, filename=filename(job))

    def status_view(self, request, pk: int) -> JsonResponse:
        """The job's progress for the bar on its page (polled by importer/import_progress.js):
        `{"status", "stage", "stage_label", "rows_done", "rows_total", "rows_rejected",
        "percent" (0-100, whole), "finished" (bool), "message", "error_report_url" (or null)}`.
        """
        job = get_object_or_404(ImportJob, pk=pk)
        if not self.has_view_permission(request, job):
            raise PermissionDenied
        finished = job.status in (ImportJob.Status.SUCCEEDED, ImportJob.Status.FAILED)
        report = reverse("admin:importer_importjob_errors", args=[pk]) if job.error_report else None
        return JsonResponse(
            {
                "status": job.status,
                "stage": job.stage,
                "stage_label": job.get_stage_display(),
                "rows_done": job.rows_done,
                "rows_total": job.rows_total,
                "rows_rejected": job.rows_rejected,
                "percent": job.progress_percent,
                "finished": finished,
                "message": job.message,
                "error_report_url": report,
            }
        )  # admin_view adds never_cache: the bar never reads a stale answer

    def errors_view(self, request, pk: int):
        return self._download(request, pk, "error_report", lambda job: f"import-{pk}-errors.csv")

    def file_view(self, request, pk: int):
        return self._download(
            request, pk, "file", lambda job: job.original_name or os.path.basename(job.file.name)
        )

    def _upload_entry(self):
        """The upload view with the size cap installed before anything reads the body (the
        CSRF check reads it, so the view is exempt from the middleware and checks inside)."""
        protected = csrf_protect(self.admin_site.admin_view(self.upload_view))

        @csrf_exempt
        def entry(request):
            upload_limit_install(request)
            try:
                return protected(request)
            except UploadTooLarge as exc:
                return HttpResponse(str(exc), status=413, content_type="text/plain")

        return entry

    def upload_view(self, request):
        if not request.user.has_perm("importer.add_importjob"):
            raise Http404
        form = UploadForm(request.POST or None, request.FILES or None)
        context = {**self.admin_site.each_context(request), "form": form, "title": "Import a file"}
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            token = data.get("preview_token", "")
            try:
                token = self._stash(data)
                template = data["template"]
                options = {
                    "kind": data["kind"],
                    "mapping": data["mapping"] or (template.mapping if template else ""),
                    **{
                        name: data.get(name) or (getattr(template, name) if template else "")
                        for name in READING_OPTIONS
                    },
                }
                if "_import" not in request.POST:
                    preview = services.import_preview(path=_preview_path(token), **options)
                    preview["raw_html"] = preview["raw"].to_html(escape=True)
                    preview["values_html"] = preview["values"].to_html(escape=True)
                    preview["suggested_header_row"] = preview["info"].suggested_header_row
                    preview["mapping_json"] = json.dumps(preview["mapping"], indent=2)
                    preview["mapping_rows"] = mapping_rows(preview["mapping"])
                    context["preview"] = preview
                    form = UploadForm(initial={**request.POST.dict(), "preview_token": token})
                    context["form"] = form
                    return TemplateResponse(
                        request, "admin/importer/importjob/upload.html", context
                    )
                with open(_preview_path(token), "rb") as handle:
                    job = services.import_job_create(
                        file=File(handle, name=token.split("-", 1)[1]),
                        template=data["template"].name if data["template"] else "",
                        on_error=data["on_error"],
                        user=request.user,
                        **options,
                    )
                os.remove(_preview_path(token))
                messages.success(request, f"Import {job.pk} queued.")
                return HttpResponseRedirect(
                    reverse("admin:importer_importjob_change", args=[job.pk])
                )
            except DomainError as exc:
                form.add_error(None, f"{exc.message} ({exc.code})")
                if "_import" in request.POST or exc.code not in FIXABLE_IN_THE_FORM:
                    _stash_drop(token)
        return TemplateResponse(request, "admin/importer/importjob/upload.html", context)

    def _stash(self, data: dict) -> str:
        """Keep the uploaded file between the preview and the import."""
        if data.get("file"):
            name = os.path.basename(data["file"].name).replace("/", "_")[:100]
            token = f"{uuid.uuid4().hex}-{name}"
            os.makedirs(os.path.join(settings.MEDIA_ROOT, PREVIEW_DIR), exist_ok=True)
            with open(_preview_path(token), "wb") as out:
                for chunk in data["file"].chunks():
                    out.write(chunk)
            return token
        token = data.get("preview_token", "")
        if not token or not os.path.exists(_preview_path(token)):
            raise DomainError("missing_file", "Choose a file to import.")
        return token
