"""Back office for the rewards app: custom segments with expression errors shown in the form."""

from django import forms
from django.contrib import admin

from rewards.expressions import ExpressionError, compile_expression
from rewards.models import CustomSegment
from rewards.segments import custom_segment_save


class CustomSegmentForm(forms.ModelForm):
    class Meta:
        model = CustomSegment
        fields = ["name", "description", "expression", "active"]
        widgets = {"expression": forms.Textarea(attrs={"rows": 3, "cols": 80})}
        help_texts = {
            "expression": 'e.g. deposits_30d > 500 and rtp_30d < 0.9 — see "Expression '
            'language reference" in docs/expressions-reference.md',
        }

    def clean_expression(self) -> str:
        text = self.cleaned_data["expression"]
        try:
            compile_expression(text, context="segment")
        except ExpressionError as exc:
            raise forms.ValidationError([str(p) for p in exc.problems]) from None
        return text


@admin.register(CustomSegment)
class CustomSegmentAdmin(admin.ModelAdmin):
    form = CustomSegmentForm
    list_display = ["name", "expression", "active", "member_count", "updated_at"]
    list_filter = ["active"]
    search_fields = ["name", "description", "expression"]

    def get_queryset(self, request):
        from django.db.models import Count

        return super().get_queryset(request).annotate(_members=Count("memberships"))

    @admin.display(description="members", ordering="_members")
    def member_count(self, segment: CustomSegment) -> int:
        return segment._members

    def save_model(self, request, segment, form, change) -> None:
        custom_segment_save(
            segment=segment,
            name=segment.name,
            expression=segment.expression,
            description=segment.description,
            active=segment.active,
        )
