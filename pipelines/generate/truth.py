"""truth.json: the figures the published tables must show, computed from the clean records.

Follows "Exact semantics shared by the models and the generator's truth" in
docs/architecture.md. Accumulates incrementally (one record at a time), so the traffic
stream never needs to be held in memory; rollups are computed once at the end.
"""

from __future__ import annotations

from collections import defaultdict

from pipelines.generate.reference import NINE_SMALL, Station, campaign_for

LEVELS = (("station", "name"), ("bureau", "bureau"), ("city", "city"), ("province", "province"))
INSP_SUMS = (
    "inspection_visits",
    "hazards_found",
    "hazards_rectified",
    "notices_issued",
    "rental_households",
    "rental_rooms",
)
DISP_SUMS = (
    "disputes_found",
    "disputes_resolved",
    "mediations",
    "mediation_successes",
    "escalations",
)
_NINE = frozenset(NINE_SMALL)


class Truth:
    def __init__(self) -> None:
        self.landing = {
            rt: {
                "files": 0,
                "files_failed": 0,
                "files_duplicate": 0,
                "rows_read": 0,
                "rows_quarantined_landing": 0,
                "rows_quarantined_by_reason": {},
            }
            for rt in ("inspections", "disputes", "traffic")
        }
        self.facts = {"inspections": 0, "disputes": 0, "traffic": 0}
        self.unknown_station = 0
        self.unknown_names: set[str] = set()
        self.key_conflicts: list[dict] = []
        # record type -> record number -> stations that used it (station-local numbering)
        self.numbers: dict[str, dict[str, set[str]]] = {
            "inspections": defaultdict(set),
            "disputes": defaultdict(set),
        }
        # (station_id, record type) -> days with records; the reporting calendar
        self.reported: dict[tuple[str, str], set] = defaultdict(set)
        self.expected: tuple[list[str], list] = ([], [])
        # data file (relative path) -> the station and days of the records it holds
        self.files: dict[str, dict] = {}
        self.pii: set[str] = set()
        self.stations: dict[str, Station] = {}
        # (campaign, station_id, code) -> sums / venue sets
        self._insp: dict[tuple, list[int]] = defaultdict(lambda: [0] * len(INSP_SUMS))
        self._venues: dict[tuple, set] = defaultdict(set)
        self._closures: dict[tuple, set] = defaultdict(set)
        self._disp: dict[tuple, list[int]] = defaultdict(lambda: [0] * len(DISP_SUMS))
        self._traf: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])

    # ------------------------------------------------------------------ landing
    def file(
        self,
        record_type: str,
        status: str = "loaded",
        rows_read: int = 0,
        quarantined: dict[str, int] | None = None,
    ) -> None:
        entry = self.landing[record_type]
        entry["files"] += 1
        if status == "failed":
            entry["files_failed"] += 1
        elif status == "duplicate":
            entry["files_duplicate"] += 1
        else:
            entry["rows_read"] += rows_read
            for reason, n in (quarantined or {}).items():
                entry["rows_quarantined_landing"] += n
                by = entry["rows_quarantined_by_reason"]
                by[reason] = by.get(reason, 0) + n

    # ------------------------------------------------------------------ facts (final values)
    def expect(self, stations: list[Station], days: list) -> None:
        """The reporting calendar the corpus declares (reference/reporting_expected.csv)."""
        self.expected = ([s.station_id for s in stations], list(days))

    def coverage(self) -> dict:
        """Per expected station and record type: expected days, days with records."""
        ids, days = self.expected
        window = set(days)
        return {
            sid: {
                rt: {
                    "expected_days": len(days),
                    "reported_days": len(self.reported[(sid, rt)] & window),
                }
                for rt in ("inspections", "disputes", "traffic")
            }
            for sid in ids
        }

    def _record(self, record_type: str, station: Station, rec: dict) -> str | None:
        """Count one inspection or dispute (facts, reported days, record numbers); returns its
        campaign (None: outside every campaign, so in no mart)."""
        self.facts[record_type] += 1
        self.reported[(station.station_id, record_type)].add(rec["day"])
        self.numbers[record_type][rec["id"]].add(station.station_id)
        cid = campaign_for(record_type, station.city, rec["day"])
        if cid is not None:
            self.stations[station.station_id] = station
        return cid

    def inspection(self, station: Station, rec: dict) -> None:
        cid = self._record("inspections", station, rec)
        if cid is None:
            return
        key = (cid, station.station_id, rec["vt"])
        s = self._insp[key]
        s[0] += 1
        s[1] += rec["found"]
        s[2] += rec["rect"]
        s[3] += rec["notices"]
        s[4] += rec["households"]
        s[5] += rec["rooms"]
        venue = rec["venue"] or rec["id"]
        self._venues[key].add(venue)
        if rec["closure"]:
            self._closures[key].add(venue)

    def dispute(self, station: Station, rec: dict) -> None:
        cid = self._record("disputes", station, rec)
        if cid is None:
            return
        s = self._disp[(cid, station.station_id, rec["source"])]
        s[0] += 1
        s[1] += rec["status"] == "RESOLVED"
        s[2] += rec["result"] is not None
        s[3] += rec["result"] == "SUCCESS"
        s[4] += bool(rec["escalated"])

    def traffic_batch(
        self, station: Station, day, code_fines: dict[str, list[int]], count: int
    ) -> None:
        """Add one station-day of tickets: {violation_code: [violations, fines]}."""
        self.facts["traffic"] += count
        if count:
            self.reported[(station.station_id, "traffic")].add(day)
        cid = campaign_for("traffic", station.city, day)
        if cid is None:
            return
        self.stations[station.station_id] = station
        for code, (n, fines) in code_fines.items():
            s = self._traf[(cid, station.station_id, code)]
            s[0] += n
            s[1] += fines

    # ------------------------------------------------------------------ rollups
    def _units(self, station_id: str) -> list[tuple[str, str]]:
        st = self.stations[station_id]
        return [(level, getattr(st, attr)) for level, attr in LEVELS]

    def mart_inspections(self) -> list[dict]:
        sums: dict[tuple, list[int]] = defaultdict(lambda: [0] * len(INSP_SUMS))
        venues: dict[tuple, set] = defaultdict(set)
        closures: dict[tuple, set] = defaultdict(set)
        for (cid, sid, vt), s in self._insp.items():
            codes = [vt, "ALL"] + (["ALL_NINE_SMALL"] if vt in _NINE else [])
            for level, unit in self._units(sid):
                for code in codes:
                    key = (cid, level, unit, code)
                    acc = sums[key]
                    for i, v in enumerate(s):
                        acc[i] += v
                    venues[key].update((sid, v) for v in self._venues[(cid, sid, vt)])
                    closures[key].update((sid, v) for v in self._closures[(cid, sid, vt)])
        rows = []
        for key in sorted(sums):
            cid, level, unit, code = key
            s = sums[key]
            rows.append(
                {
                    "campaign_id": cid,
                    "level": level,
                    "unit_name": unit,
                    "venue_type_code": code,
                    "venues_inspected": len(venues[key]),
                    "inspection_visits": s[0],
                    "hazards_found": s[1],
                    "hazards_rectified": s[2],
                    "notices_issued": s[3],
                    "closures_ordered": len(closures[key]),
                    "rental_households": s[4],
                    "rental_rooms": s[5],
                }
            )
        return rows

    def mart_disputes(self) -> list[dict]:
        sums: dict[tuple, list[int]] = defaultdict(lambda: [0] * len(DISP_SUMS))
        for (cid, sid, source), s in self._disp.items():
            for level, unit in self._units(sid):
                for code in (source, "ALL"):
                    acc = sums[(cid, level, unit, code)]
                    for i, v in enumerate(s):
                        acc[i] += v
        return [
            {
                "campaign_id": k[0],
                "level": k[1],
                "unit_name": k[2],
                "source_code": k[3],
                **dict(zip(DISP_SUMS, sums[k], strict=True)),
            }
            for k in sorted(sums)
        ]

    def mart_traffic(self) -> list[dict]:
        sums: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
        for (cid, sid, code), s in self._traf.items():
            for level, unit in self._units(sid):
                for c in (code, "ALL"):
                    acc = sums[(cid, level, unit, c)]
                    acc[0] += s[0]
                    acc[1] += s[1]
        return [
            {
                "campaign_id": k[0],
                "level": k[1],
                "unit_name": k[2],
                "violation_code": k[3],
                "violations": v[0],
                "fines_yuan": v[1],
            }
            for k, v in sorted(sums.items())
        ]

    def as_dict(self, params: dict) -> dict:
        landing = {}
        for rt, entry in self.landing.items():
            landing[rt] = dict(entry)
            landing[rt]["rows_quarantined_by_reason"] = dict(
                sorted(entry["rows_quarantined_by_reason"].items())
            )
        return {
            "params": params,
            "landing": landing,
            "facts": dict(self.facts),
            "model_quarantine": {
                "unknown_station": self.unknown_station,
                "unmapped_value": 0,
                "key_conflict": len(self.key_conflicts),
            },
            "unknown_station_names": sorted(self.unknown_names),
            "key_conflicts": self.key_conflicts,
            "coverage": self.coverage(),
            "files": self.files,
            # record numbers that more than one station used (for different records)
            "shared_record_numbers": {
                rt: sum(len(stations) > 1 for stations in numbers.values())
                for rt, numbers in self.numbers.items()
            },
            "pii_values": sorted(self.pii),
            "mart_campaign_inspections": self.mart_inspections(),
            "mart_campaign_disputes": self.mart_disputes(),
            "mart_campaign_traffic": self.mart_traffic(),
        }
