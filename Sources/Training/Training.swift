// The training domain (DESIGN.md): questions and the question bank, exams and attempts, grading, item analysis,
// originality, logbooks, placements and supervision. Its logic is pure and testable without HTTP; its store keeps
// it in the platform database; `Server` maps routes and pages onto it.
