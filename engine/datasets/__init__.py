"""Labelled data readers (the Airbus Aircraft sample) and the fixed validation split."""
