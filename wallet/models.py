"""Accounts, the double-entry ledger, bonuses and wagering."""
