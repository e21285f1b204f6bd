"""MERM Lab: virtual MR and PET scanners for training medical imaging technologists.

Subpackages
-----------
mr, pet
    Scanner physics (numpy/scipy only, no UI or network code).
ai
    Learned denoisers with numpy inference and shipped weights.
console
    ipywidgets consoles used by the Voilà dashboards.
mentoring
    aiohttp + aiortc hub and clients for remote coaching.
exercises
    Exercise schema, grader and progress store.
"""

__version__ = "0.1.0"

SIMULATED_BANNER = "SIMULATED — NOT FOR DIAGNOSIS"
SIMULATED_BANNER_FR = "SIMULÉ — NE PAS UTILISER POUR LE DIAGNOSTIC"

__all__ = ["__version__", "SIMULATED_BANNER", "SIMULATED_BANNER_FR"]
