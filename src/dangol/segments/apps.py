from django.apps import AppConfig


class SegmentsConfig(AppConfig):
    name = "dangol.segments"
    label = "segments"
    verbose_name = "세그먼트 / Segments"
