"""The quarterly client need analysis report and its meeting (客户需求分析报告, 需求分析会议;
seed 003, 三(四); R65-R69): models, services, pages, API, exports and demo data."""
