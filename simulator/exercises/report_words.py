"""The words of a class report (French, English), shared by the Voilà instructor dashboard and
the progress service's staff pages, so both say the same thing."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

__all__ = ["REPORT_WORDS"]

#: Key → (French, English).
REPORT_WORDS: Mapping[str, tuple[str, str]] = MappingProxyType({
    'title': ('Suivi de la promotion', 'Class progress'),
    'cohort': ('Promotion', 'Cohort'),
    'exercise': ('Exercice', 'Exercise'),
    'trainee': ('Élève', 'Trainee'),
    'progress': ('Progression par élève', 'Progress per trainee'),
    'difficulty': ('Difficulté par exercice', 'Difficulty per exercise'),
    'csv': ('Exporter en CSV', 'Export CSV'),
    'attempts': ('tentatives', 'attempts'),
    'best': ('meilleure note', 'best score'),
    'passed': ('réussi', 'passed'),
    'time': ('temps (min)', 'time (min)'),
    'last': ('dernière soumission', 'last submission'),
    'mean': ('note moyenne', 'mean score'),
    'pass_rate': ('taux de réussite', 'pass rate'),
    'trainees': ('élèves', 'trainees'),
    'to_pass': ("tentatives jusqu'à réussite", 'attempts to pass'),
    'empty': ("Aucune tentative pour l'instant.", 'No attempts yet.'),
    'yes': ('oui', 'yes'),
    'no': ('non', 'no'),
})
