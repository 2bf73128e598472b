"""The evaluation cycle: 年度评价, 中期评估, 五年考核 — rules, results, grades, explanations."""
