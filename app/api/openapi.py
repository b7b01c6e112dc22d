"""The OpenAPI 3.0 description of API v1 (served at /api/v1/openapi.json, checked by schemathesis)."""

_share = {"type": "number", "nullable": True, "minimum": 0,
          "description": "A ratio (0.44 = 44 %); null when the unit has no household count."}
_count = {"type": "integer", "minimum": 0}

_target = {"type": "object", "nullable": True, "required": ["share", "date"],
           "description": "The province's target for this share; null when it has set none.",
           "properties": {"share": {"type": "number"}, "date": {"type": "string", "format": "date"}}}
_ratio = {"type": "number", "nullable": True, "minimum": 0,
          "description": "A ratio (0.44 = 44 %); null when its denominator is 0."}

ADULTS = {
    "type": "object", "nullable": True,
    "description": "The adult indicators (people aged 15 and over), a measure separate from the households: "
                   "see docs/indicators.md. Null for a month closed before they were recorded.",
    "required": ["adults", "attendances", "named", "working", "online_dossiers"],
    "properties": {
        "adults": {**_count, "description": "Official adult population at the end of the month "
                                            "(sum of the units below)."},
        "attendances": {**_count, "description": "Learners at the month's classes; a person at two classes "
                                                 "counts twice."},
        "named": {"type": "object", "required": ["learners", "share", "target"], "properties": {
            "learners": {**_count, "description": "Distinct named learners of classes up to the end of the month."},
            "share": {**_ratio, "description": "learners ÷ adults."},
            "target": _target}},
        "working": {"type": "array", "description": "Per active service, learners of the month's classes who came "
                                                    "away with it working (households' adoptions not included).",
                    "items": {"type": "object", "required": ["code", "learners"],
                              "properties": {"code": {"type": "string"}, "learners": _count}}},
        "online_dossiers": {"type": "object",
                            "required": ["dossiers", "counted", "commune_dossiers", "share", "target"],
                            "properties": {
                                "dossiers": {**_count, "description": "Filed online with the teams' help at "
                                                                      "one-stop-centre shifts in the month."},
                                "counted": {**_count, "description": "Those of the communes that entered "
                                                                     "their month's total."},
                                "commune_dossiers": {**_count, "description": "The totals those communes entered."},
                                "share": {**_ratio, "description": "counted ÷ commune_dossiers."},
                                "target": _target}},
    },
}

UNIT_COVERAGE = {
    "type": "object",
    "required": ["unit", "month", "households", "reach", "services"],
    "properties": {
        "unit": {"type": "object", "required": ["code", "name", "level"], "properties": {
            "code": {"type": "string", "nullable": True, "description": "GSO code; hamlets may have none"},
            "name": {"type": "string"},
            "level": {"type": "string", "enum": ["province", "district", "area", "commune", "hamlet"]},
        }},
        "month": {"type": "string", "pattern": r"^\d{4}-\d{2}$"},
        "households": _count,
        "reach": {"type": "object", "required": ["households", "share"], "properties": {
            "households": _count, "share": _share}},
        "services": {"type": "array", "items": {
            "type": "object", "required": ["code", "name", "adopted", "coverage", "target"],
            "properties": {
                "code": {"type": "string"},
                "name": {"type": "object", "required": ["vi", "en"],
                         "properties": {"vi": {"type": "string"}, "en": {"type": "string"}}},
                "adopted": _count,
                "coverage": _share,
                "target": {"type": "object", "nullable": True, "required": ["share", "date"], "properties": {
                    "share": {"type": "number"}, "date": {"type": "string", "format": "date"}}},
            }}},
        "adults": ADULTS,
    },
}

ERROR = {"type": "object", "required": ["error"], "properties": {"error": {
    "type": "object", "required": ["code", "message"],
    "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}}


def _error(description: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def openapi_document() -> dict:
    return {
        "openapi": "3.0.3",
        "info": {"title": "Community digital-technology teams: coverage API", "version": "1.0.0",
                 "description": "Adoption of digital services by households, per administrative unit "
                                "and month (Asia/Ho_Chi_Minh). Counts are given with every ratio, and "
                                "each child unit too, so a client can check the roll-up: a parent's "
                                "coverage is the sum of its children's adopting households over the sum "
                                "of their households."},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": {
            "/api/v1/coverage": {"get": {
                "operationId": "getCoverage",
                "summary": "Coverage of a unit and of each unit directly below it, at the end of a month",
                "parameters": [
                    {"name": "unit", "in": "query", "required": True,
                     "description": "GSO code, e.g. 93: the unit that bore it in the month (codes are reused "
                                    "since the 2025 reform), or today's bearer with map=today",
                     "schema": {"type": "string", "maxLength": 20}},
                    {"name": "month", "in": "query", "required": True,
                     "description": "YYYY-MM (MM/YYYY or M/YYYY, as the pages take a month, is read the same), "
                                    "not in the future",
                     "schema": {"type": "string", "pattern": r"^([0-9]{4}-(0[1-9]|1[0-2])|(0?[1-9]|1[0-2])/[0-9]{4})$",
                                "example": "2024-10"}},
                    {"name": "map", "in": "query", "required": False,
                     "description": "then (default): the units as the map was in the month, each under its "
                                    "parent then; today: today's units, a new unit's earlier months being the "
                                    "figures of the hamlets it holds now",
                     "schema": {"type": "string", "enum": ["then", "today"], "default": "then"}},
                ],
                "responses": {
                    "200": {"description": "The unit's figures and its children's",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Coverage"}}}},
                    "400": _error("Missing unit, or a malformed month, or one that has not begun, or an unknown map"),
                    "401": _error("Missing, unknown or revoked token"),
                    "404": _error("No unit bore this code in the month in the token user's area"),
                },
            }},
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "UnitCoverage": UNIT_COVERAGE,
                "Coverage": {"allOf": [{"$ref": "#/components/schemas/UnitCoverage"}, {
                    "type": "object", "required": ["children"], "properties": {
                        "children": {"type": "array", "items": {"$ref": "#/components/schemas/UnitCoverage"}}}}]},
                "Error": ERROR,
            },
        },
    }
