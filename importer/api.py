"""API of the importer: POST imports/, GET imports/{id}/, errors.csv, templates CRUD."""

import json

from django.http import FileResponse, HttpResponse
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from config.errors import DomainError
from config.jsontext import json_loads
from importer import services
from importer.models import (
    READING_OPTIONS,
    ImportJob,
    ImportLookup,
    ImportTemplate,
    Kind,
    OnError,
)
from importer.uploads import upload_limit_install


class ImportJobSerializer(serializers.ModelSerializer):
    error_report_url = serializers.SerializerMethodField()

    class Meta:
        model = ImportJob
        fields = [
            "id", "kind", "status", "stage", "rows_total", "rows_done", "rows_rejected",
            "errors", "error_report_url", "error_code", "message", "original_name",
            "file_format", "encoding", "delimiter", "sheet", "on_error", "mapping", "template",
            "header_row", "decimal_separator", "thousands_separator", "date_order", "time_zone",
            "on_conflict", "warnings", "counts",
            "activities_created", "players_created", "players_updated", "stages",
            "created_at", "started_at", "finished_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_error_report_url(self, job: ImportJob) -> str | None:
        return f"/api/v1/imports/{job.pk}/errors.csv" if job.rows_rejected else None

    def to_representation(self, job):
        data = super().to_representation(job)
        data["template"] = job.template.name if job.template_id else None
        return data


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField()
    kind = serializers.CharField()
    mapping = serializers.CharField(required=False, allow_blank=True)
    template = serializers.CharField(required=False, allow_blank=True)
    on_error = serializers.CharField(required=False, allow_blank=True)
    encoding = serializers.CharField(required=False, allow_blank=True)
    delimiter = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    sheet = serializers.CharField(required=False, allow_blank=True)
    header_row = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    decimal_separator = serializers.CharField(required=False, allow_blank=True)
    thousands_separator = serializers.CharField(
        required=False, allow_blank=True, trim_whitespace=False
    )
    date_order = serializers.CharField(required=False, allow_blank=True)
    time_zone = serializers.CharField(required=False, allow_blank=True)
    on_conflict = serializers.CharField(required=False, allow_blank=True)


class ImportTemplateSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=Kind.choices)
    on_error = serializers.ChoiceField(choices=OnError.choices, required=False)

    class Meta:
        model = ImportTemplate
        fields = ["id", "name", "kind", "description", "mapping", "on_error", "encoding",
                  "delimiter", "sheet", "header_row", "decimal_separator",
                  "thousands_separator", "date_order", "time_zone", "on_conflict",
                  "created_at", "updated_at"]  # fmt: skip
        read_only_fields = ["id", "created_at", "updated_at"]

    def validate(self, attrs):
        kind = attrs.get("kind") or getattr(self.instance, "kind", "")
        mapping = attrs.get("mapping", getattr(self.instance, "mapping", {}))
        parsed = services.mapping_parse(kind=kind, raw=services._raw_mapping(mapping))
        attrs["mapping"] = {k: v for k, v in parsed.as_json().items() if k != "auto_matched"}
        given = {name: attrs[name] for name in READING_OPTIONS if name in attrs}
        checked = services.reading_options(**given)
        attrs.update({name: checked[name] for name in given})
        return attrs


class ImportLookupSerializer(serializers.ModelSerializer):
    """A saved value map: `values` given as an object, or `file` (multipart) a two-column CSV
    or XLSX with a header (value in the file, value stored) that replaces them."""

    file = serializers.FileField(write_only=True, required=False)
    values = serializers.JSONField(required=False)

    class Meta:
        model = ImportLookup
        fields = ["name", "description", "values", "file", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]

    def validate(self, attrs):
        upload = attrs.pop("file", None)
        if upload is not None:
            attrs["values"] = services.lookup_values_upload(upload)
        elif "values" in attrs:
            attrs["values"] = services.lookup_values_check(attrs["values"])
        elif self.instance is None:
            raise serializers.ValidationError({"values": ["Give values or a file."]})
        return attrs


class ImportJobViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Upload a file to import (202 with the job) and follow the job's progress."""

    lookup_value_regex = "[0-9]+"

    queryset = ImportJob.objects.select_related("template")
    serializer_class = ImportJobSerializer
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    write_roles = {"admin", "operator"}
    filterset_fields = ["kind", "status"]

    def get_serializer_class(self):
        return ImportUploadSerializer if self.action == "create" else ImportJobSerializer

    def initialize_request(self, request, *args, **kwargs):
        upload_limit_install(request)  # 413 while streaming (importer/uploads.py)
        return super().initialize_request(request, *args, **kwargs)

    def create(self, request, *args, **kwargs):
        upload = ImportUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        data = upload.validated_data
        mapping = data.get("mapping", "")
        if mapping:
            try:
                json_loads(mapping)
            except json.JSONDecodeError as exc:
                raise DomainError(
                    "invalid_mapping", f"The mapping is not valid JSON: {exc.msg}."
                ) from exc
        job = services.import_job_create(
            file=data["file"],
            kind=data["kind"],
            mapping=mapping,
            template=data.get("template", ""),
            on_error=data.get("on_error", ""),
            user=request.user,
            **{name: data[name] for name in READING_OPTIONS if data.get(name)},
        )
        job.refresh_from_db()
        return Response(ImportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)

    def errors_csv(self, request, pk=None):
        job = self.get_object()
        if not job.error_report:
            response = HttpResponse("row,column,code,message,value\r\n", content_type="text/csv")
        else:
            response = FileResponse(job.error_report.open("rb"), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-errors.csv"'
        return response


class ImportTemplateViewSet(viewsets.ModelViewSet):
    """Named column mappings, reusable by `template` in POST imports/."""

    queryset = ImportTemplate.objects.order_by("name")
    serializer_class = ImportTemplateSerializer
    write_roles = {"admin", "operator"}
    lookup_field = "name"
    lookup_value_regex = "[-a-zA-Z0-9_]{1,64}"  # a slug: a NUL or `/` is a 404, never a query


class ImportLookupViewSet(viewsets.ModelViewSet):
    """Saved value maps, named in a mapping field by `"lookup": "<name>"`."""

    queryset = ImportLookup.objects.order_by("name")
    serializer_class = ImportLookupSerializer
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    write_roles = {"admin", "operator"}
    lookup_field = "name"
    lookup_value_regex = "[-a-zA-Z0-9_]{1,64}"  # a slug: a NUL or `/` is a 404, never a query

    def initialize_request(self, request, *args, **kwargs):
        upload_limit_install(request)  # 413 while streaming (importer/uploads.py)
        return super().initialize_request(request, *args, **kwargs)
