"""Builders shared by the tests: synthetic voyages, zones and detector contexts (detect), AIS
lines as receivers log them (nmea), zone layer files (zones), the `mda` command run in-process
or as a subprocess (cli). Importable as `helpers` because pytest puts the tests folder on
sys.path (conftest.py lives there)."""
