"""AWS Glue Data Quality: moto has none of its operations; the prefix guard knows its rulesets.

Changes to a ruleset need a name the lab owns (``Ruleset``); rulesets are listed and deleted by teardown.
"""
from __future__ import annotations

from .service import Service

SERVICE = Service(
    "glue", guarded=("Ruleset",),
    operations=("CreateDataQualityRuleset", "UpdateDataQualityRuleset", "DeleteDataQualityRuleset",
                "StartDataQualityRulesetEvaluationRun", "StartDataQualityRuleRecommendationRun"))
