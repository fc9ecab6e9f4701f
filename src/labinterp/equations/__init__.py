"""Published clinical equations as pure, vectorised functions (no I/O, no catalogue)."""

from labinterp.equations.aki import aki_criteria, aki_stage
from labinterp.equations.egfr import (
    crcl_cockcroft_gault,
    egfr_ckd_epi_2009_cr,
    egfr_ckd_epi_2012_cr_cys,
    egfr_ckd_epi_2012_cys,
    egfr_ckd_epi_2021_cr,
    egfr_ckd_epi_2021_cr_cys,
    egfr_ekfc_cr,
    egfr_lund_malmo_revised,
    egfr_mdrd_idms,
    egfr_schwartz_bedside,
)
from labinterp.equations.hba1c import eag_from_hba1c, hba1c_ifcc_to_ngsp, hba1c_ngsp_to_ifcc
from labinterp.equations.kdigo import (
    ALBUMINURIA_CATEGORIES,
    GFR_CATEGORIES,
    RISKS,
    kdigo_risk,
)
from labinterp.equations.kfre import KFRE_POPULATION, KfrePopulation, kfre, kfre_applies
from labinterp.equations.variation import (
    reference_change_value,
    reference_change_value_lognormal,
)

__all__ = [
    "ALBUMINURIA_CATEGORIES",
    "GFR_CATEGORIES",
    "KFRE_POPULATION",
    "RISKS",
    "KfrePopulation",
    "aki_criteria",
    "aki_stage",
    "crcl_cockcroft_gault",
    "eag_from_hba1c",
    "egfr_ckd_epi_2009_cr",
    "egfr_ckd_epi_2012_cr_cys",
    "egfr_ckd_epi_2012_cys",
    "egfr_ckd_epi_2021_cr",
    "egfr_ckd_epi_2021_cr_cys",
    "egfr_ekfc_cr",
    "egfr_lund_malmo_revised",
    "egfr_mdrd_idms",
    "egfr_schwartz_bedside",
    "hba1c_ifcc_to_ngsp",
    "hba1c_ngsp_to_ifcc",
    "kdigo_risk",
    "kfre",
    "kfre_applies",
    "reference_change_value",
    "reference_change_value_lognormal",
]
