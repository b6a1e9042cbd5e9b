"""Retraining: a model adapted to a site from a few labelled pages."""
