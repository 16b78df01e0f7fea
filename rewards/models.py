"""Rules, the expression language, evaluation and rewards."""
