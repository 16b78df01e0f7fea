"""`manage.py wallet_reconcile`: recompute every balance from entries; exit 1 on any drift."""

import sys

from django.core.management.base import BaseCommand

from wallet.selectors import ledger_drift


class Command(BaseCommand):
    help = "Prove the ledger: entries balance per currency and cached balances equal entries."

    def handle(self, *args, **options):
        drift = ledger_drift()
        for currency, total in drift["currencies"].items():
            self.stderr.write(f"currency {currency}: entries sum to {total}, not 0")
        for transaction_id, currency, total in drift["transactions"]:
            self.stderr.write(f"transaction {transaction_id} ({currency}) sums to {total}")
        for row in drift["accounts"]:
            self.stderr.write(
                f"account {row['account']}: cached {row['cached']} != entries {row['entries']}"
            )
        if any(drift.values()):
            self.stderr.write(self.style.ERROR("Ledger drift found."))
            sys.exit(1)
        self.stdout.write(self.style.SUCCESS("Ledger reconciled: no drift."))
