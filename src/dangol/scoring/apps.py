from django.apps import AppConfig


class ScoringConfig(AppConfig):
    name = "dangol.scoring"
    label = "scoring"
    verbose_name = "점수 / Scores"
