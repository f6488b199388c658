// Tests of the training domain; one file per part (question bank, exams, grading, item analysis, originality,
// logbooks). Independent references run as Python scripts from `Scripts/`.
@testable import Training
