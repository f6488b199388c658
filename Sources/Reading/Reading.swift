/// Remote reading (远程影像诊断): consultation requests from sites, work items on the readers' worklist, reports from
/// draft to signed with addenda, critical results, peer review and turnaround. The logic is pure and testable without
/// HTTP; `Server` maps routes, pages and push channels onto it (DESIGN.md).
public enum Reading {}
