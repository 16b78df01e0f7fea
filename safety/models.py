"""Eligibility, profit safety, fraud detection and the review queue."""
