from django.apps import AppConfig


class SafetyConfig(AppConfig):
    name = "safety"
    verbose_name = "Eligibility, profit safety, fraud detection and the review queue"
