"""Maritime Identification Digits: kept as an import path; the table lives in mda.ais.mmsi."""

from mda.ais.mmsi import ALLOCATED_MIDS, MID_COUNTRY, flag_of

__all__ = ["ALLOCATED_MIDS", "MID_COUNTRY", "flag_of"]
