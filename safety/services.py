"""Services of the safety app: raise and resolve flags, scan for fraud (SPEC §7 step 3).

`fraud_scan` is the batch job (beat, after imports, `manage.py fraud_scan`): the cluster
detector over the whole fingerprint graph, then the per-player detectors in chunks of players,
then the risk scores of everyone touched. Every detector is set-based per chunk.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from django.db import transaction
from django.utils import timezone

from config.audit import audit_record
from config.domain_events import domain_events_emit
from config.errors import DomainError
from players.models import BatchJob, Player
from safety import fraud
from safety.clusters import fingerprint_clusters
from safety.fraud import FlagDraft
from safety.models import FraudCluster, FraudClusterMember, FraudFlag, SafetyPolicy
from safety.scoring import flag_score, risk_scores_refresh, signal_weights
from safety.selectors import house_edges

log = structlog.get_logger(__name__)
CHUNK = 5000


def flags_raise(drafts: Sequence[FlagDraft]) -> set[int]:
    """Store the drafts as flags: new ones open, known ones (same player, signal, key) get the
    fresh score and evidence but keep their status — a dismissed flag stays dismissed.
    Returns the ids of the players concerned (their risk score needs a refresh)."""
    if not drafts:
        return set()
    weights = signal_weights()
    unique = {(d.player_id, d.signal, d.key[:200]): d for d in drafts}
    known = set(
        FraudFlag.objects.filter(
            player_id__in={d.player_id for d in drafts}, signal__in={d.signal for d in drafts}
        ).values_list("player_id", "signal", "key")
    )
    new = [key for key in unique if key not in known]
    now = timezone.now()
    FraudFlag.objects.bulk_create(
        [
            FraudFlag(
                player_id=d.player_id,
                signal=d.signal,
                key=d.key[:200],
                evidence=d.evidence,
                strength=d.strength,
                score=flag_score(weight=weights[d.signal], strength=d.strength),
                created_at=now,
                updated_at=now,
            )  # fmt: skip
            for d in unique.values()
        ],
        update_conflicts=True,
        unique_fields=["player", "signal", "key"],
        update_fields=["score", "strength", "evidence", "updated_at"],
        batch_size=1000,
    )
    if new:
        domain_events_emit("fraud.flagged", lambda: _flagged_events(new))
    return {d.player_id for d in unique.values()}


def _flagged_events(keys: list[tuple[int, str, str]]) -> list[dict]:
    """The `data` of fraud.flagged events: the SPEC §10 flag shape of each new flag."""
    wanted = set(keys)
    flags = FraudFlag.objects.filter(
        player_id__in={k[0] for k in keys}, signal__in={k[1] for k in keys}
    ).select_related("player")
    return [
        {
            "id": flag.pk,
            "player": flag.player.external_id,
            "signal": flag.signal,
            "score": flag.score,
            "status": flag.status,
            "evidence": flag.evidence,
            "created_at": flag.created_at.isoformat(),
        }
        for flag in flags.order_by("pk")
        if (flag.player_id, flag.signal, flag.key) in wanted
    ]


def flags_rescore() -> int:
    """Apply the current signal weights to every counted flag (after staff edit a weight)."""
    weights = signal_weights()
    changed = []
    for flag in FraudFlag.objects.exclude(status=FraudFlag.Status.DISMISSED).only(
        "pk", "signal", "strength", "score"
    ):
        score = flag_score(weight=weights[flag.signal], strength=flag.strength)
        if score != flag.score:
            flag.score = score
            changed.append(flag)
    FraudFlag.objects.bulk_update(changed, ["score"], batch_size=1000)
    return len(changed)


RESOLUTIONS = (FraudFlag.Status.CONFIRMED, FraudFlag.Status.DISMISSED)


def flag_resolve(*, flag: FraudFlag, resolution: str, note: str, by=None) -> FraudFlag:
    """Confirm (keeps its weight) or dismiss (removes it: the risk score drops at once) an open
    flag; the note is mandatory and kept with the staff user and time (the audit).

    Raises `note_required`, `invalid_resolution`, `flag_resolved` (409: not open any more).
    """
    note = (note or "").strip()
    if not note:
        raise DomainError("note_required", "A note is required to resolve a flag.")
    if resolution not in RESOLUTIONS:
        raise DomainError("invalid_resolution", "Resolution is 'confirmed' or 'dismissed'.")
    with transaction.atomic():
        now = timezone.now()
        updated = FraudFlag.objects.filter(pk=flag.pk, status=FraudFlag.Status.OPEN).update(
            status=resolution, note=note, resolved_at=now, resolved_by=by, updated_at=now
        )
        if not updated:
            raise DomainError("flag_resolved", f"Flag {flag.pk} is not open.", status=409)
        audit_record(  # the compare-and-set .update() above sends no signal
            instance=flag,
            action="update",
            by=by,
            reason=note,
            changes={"status": [FraudFlag.Status.OPEN, resolution]},
        )
        risk_scores_refresh(player_ids=[flag.player_id], by=by)
    flag.refresh_from_db()
    log.info("fraud_flag_resolved", flag=flag.pk, resolution=resolution)
    return flag


def flags_resolve(*, flags: Iterable[FraudFlag], resolution: str, note: str, by=None) -> int:
    """Resolve several open flags with one note (the admin's bulk action); skips resolved ones."""
    done = 0
    for flag in flags:
        try:
            flag_resolve(flag=flag, resolution=resolution, note=note, by=by)
            done += 1
        except DomainError as error:
            if error.code != "flag_resolved":
                raise
    return done


@transaction.atomic
def clusters_refresh(*, now: datetime | None = None) -> set[int]:
    """Find the multi-account clusters, store them (replacing the last scan's) and raise the
    `shared_*` flags of their members. Returns the members' ids."""
    now = now or timezone.now()
    policy = SafetyPolicy.current()
    clusters = fingerprint_clusters(max_players=policy.shared_value_max_players)
    FraudCluster.objects.all().delete()
    stored = FraudCluster.objects.bulk_create(
        [
            FraudCluster(size=c.size, shared_values=c.values_by_kind(), detected_at=now)
            for c in clusters
        ],
        batch_size=1000,
    )
    FraudClusterMember.objects.bulk_create(
        [
            FraudClusterMember(cluster_id=row.pk, player_id=p)
            for row, c in zip(stored, clusters, strict=True)
            for p in c.players
        ],
        batch_size=5000,
    )
    return flags_raise(fraud.cluster_drafts(clusters))


def fraud_scan_chunk(*, player_ids: Sequence[int], now: datetime | None = None) -> int:
    """The per-player detectors for one chunk, then the chunk's risk scores. → flags raised."""
    now = now or timezone.now()
    policy = SafetyPolicy.current()
    since = now - timedelta(days=policy.lookback_days)
    categories, games = house_edges()
    drafts = [
        *fraud.detect_chargebacks(player_ids=player_ids, since=since),
        *fraud.detect_max_bet_breach(player_ids=player_ids, since=since),
        *fraud.detect_bonus_ratio(player_ids=player_ids, since=since, policy=policy),
        *fraud.detect_bonus_withdrawal(player_ids=player_ids, since=since, policy=policy),
        *fraud.detect_low_contribution_wagering(
            player_ids=player_ids,
            since=since,
            policy=policy,
            house_edges=categories,
            game_edges=games,
        ),  # fmt: skip
        *fraud.detect_reward_velocity(player_ids=player_ids, now=now, policy=policy),
    ]
    with transaction.atomic():
        flags_raise(drafts)
        risk_scores_refresh(player_ids=player_ids)
    return len(drafts)


def player_chunks(*, player_ids: Iterable[int] | None, size: int = CHUNK) -> list[list[int]]:
    ids = (
        sorted(set(player_ids))
        if player_ids is not None
        else list(Player.objects.order_by("pk").values_list("pk", flat=True))
    )
    return [ids[i : i + size] for i in range(0, len(ids), size)]


@dataclass(frozen=True)
class ScanResult:
    players: int
    chunks: int
    flags: int
    clustered: int

    def __str__(self) -> str:
        return (
            f"{self.players} players in {self.chunks} chunks: {self.flags} flags raised or "
            f"refreshed, {self.clustered} players in clusters"
        )


def fraud_scan(*, player_ids: Iterable[int] | None = None, chunk_size: int = CHUNK) -> ScanResult:
    """Clusters over the whole fingerprint graph, then the per-player detectors chunk by chunk
    (these players, or all when None). The Celery job fans the chunks out instead."""
    clustered = clusters_refresh()
    chunks = player_chunks(player_ids=player_ids, size=chunk_size)
    flags = sum(fraud_scan_chunk(player_ids=chunk) for chunk in chunks)
    risk_scores_refresh(player_ids=clustered)
    result = ScanResult(sum(map(len, chunks)), len(chunks), flags, len(clustered))
    log.info("fraud_scanned", result=str(result))
    return result


# The fraud scan as a batch job shared by many workers (players/batch.py, ADR 0018): the
# cluster detector once before the fan-out, the per-player detectors per id-range chunk, the
# cluster members' risk scores once after the last chunk.


def fraud_scan_prepare(*, job: BatchJob) -> None:
    """`fraud_scan` job, before its chunks: clusters over the whole fingerprint graph."""
    clusters_refresh()


def fraud_scan_job_chunk(*, job: BatchJob, player_ids: list[int]) -> int:
    """`fraud_scan` job chunk: the per-player detectors and risk scores. → flags raised."""
    return fraud_scan_chunk(player_ids=player_ids)


def fraud_scan_finish(*, job: BatchJob) -> None:
    """`fraud_scan` job, in the last chunk's transaction: every cluster member's risk score
    (members outside the job's players included)."""
    risk_scores_refresh(
        player_ids=set(FraudClusterMember.objects.values_list("player_id", flat=True))
    )


def fraud_scan_after_import(*, player_ids: list[int] | None, job_id: int) -> str:
    """Post-import step "safety" (importer/pipeline.py): scan the players the import touched."""
    return str(fraud_scan(player_ids=player_ids))


def fraud_activities_check(*, activity_ids: Sequence[int]) -> int:
    """The per-event detectors for newly applied live activity (chargebacks). → flags."""
    drafts = fraud.detect_chargebacks(activity_ids=activity_ids)
    with transaction.atomic():
        risk_scores_refresh(player_ids=flags_raise(drafts))
    return len(drafts)


def fraud_refusals_check(*, refused: Sequence) -> int:
    """Live bets the wallet refused over a bonus's max bet become `max_bet_breach` flags."""
    drafts = fraud.max_bet_attempt_drafts(refused)
    with transaction.atomic():
        risk_scores_refresh(player_ids=flags_raise(drafts))
    return len(drafts)
