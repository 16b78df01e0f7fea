"""Reading /metrics as Prometheus does: a sample's value after driving the real code path."""

from django.test import Client, override_settings
from prometheus_client.parser import text_string_to_metric_families


def scrape() -> dict[tuple[str, tuple], float]:
    """Every sample /metrics answers (from loopback, no token set): {(name, labels): value}."""
    with override_settings(PITBOSS={"METRICS_TOKEN": ""}):
        response = Client().get("/metrics")
    assert response.status_code == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def sample(samples: dict, name: str, **labels) -> float:
    """The value of `name` with exactly `labels` (0 when absent, like an unseen counter)."""
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def names(samples: dict) -> set[str]:
    return {name for name, _labels in samples}
