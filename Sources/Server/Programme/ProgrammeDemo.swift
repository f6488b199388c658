import Foundation
import Programme
import Teaching

/// The programme office's demonstration data: this year's targets for the alliance and for one county hospital, a
/// named indicator (teaching awards) with a figure and its evidence, and an improvement action for the consultation
/// target, so that `/programme` shows every status on first start; and a continuing-education course of the demo
/// library's cases, which demo-site has begun. The figures themselves are computed from the demo
/// consultations and cases, never typed in.
enum ProgrammeDemo {
    static let step = DemoStep(name: "programme") { context in
        let store = ProgrammeStore(identity: context.identity, reading: nil, teaching: nil)
        let year = ProgrammeRoutes.currentYear(Date())
        guard try await store.targets(year: year).isEmpty else { return }
        let targets: [(String?, String, Double, Double)] = [
            (nil, IndicatorCatalog.consultations.key, 1000, 800),
            (nil, IndicatorCatalog.turnaroundMedian.key, 24, 36),
            (nil, IndicatorCatalog.breachRate.key, 10, 20),
            (nil, IndicatorCatalog.casesAdded.key, 120, 90),
            (nil, IndicatorCatalog.trainingPersonTimes.key, 1000, 800),
            (nil, IndicatorCatalog.examPassRate.key, 80, 70),
            ("COUNTY-A", IndicatorCatalog.consultations.key, 200, 150),
        ]
        for (institution, indicator, target, warning) in targets {
            try await store.setTarget(
                ProgrammeTarget(
                    year: year, institution: institution, indicator: indicator, target: target, warning: warning, owner: "demo-admin"),
                by: "demo-admin")
        }
        let awards = NamedIndicator(
            definition: IndicatorDefinition(
                key: "awards", unit: "count", direction: .higherIsBetter, accumulation: .cumulative, derived: false),
            nameEnglish: "Teaching awards", nameChinese: "教学成果奖")
        if try await !store.namedIndicators().contains(where: { $0.definition.key == "awards" }) {
            try await store.addIndicator(awards, by: "demo-admin")
            try await store.setTarget(
                ProgrammeTarget(year: year, institution: nil, indicator: "awards", target: 2, warning: 1, owner: "demo-admin"),
                by: "demo-admin")
            try await store.recordFigure(
                indicator: "awards", institution: "MEDCOLLEGE", date: Date(), value: 1,
                evidence: "省级教学成果奖二等奖（演示）Provincial teaching award, second prize (demo)", by: "demo-admin")
        }
        // A continuing-education course of the demo library's published cases; demo-site has studied the first.
        let library = TeachingStore(identity: context.identity)
        let cases = try await library.search(CaseQuery(order: .title, limit: 3)).hits.map(\.id)
        if !cases.isEmpty, try await store.courses(publishedOnly: false).isEmpty {
            let course = try await store.createCourse(
                titleChinese: "胸部与神经影像入门（演示）", titleEnglish: "Chest and neuroimaging basics (demo)",
                summary: "逐一学习三个教学病例，完成后获得结业证书。Study three teaching cases; a certificate follows.", creditHours: 3,
                cases: cases, examID: nil, published: true, by: "demo-admin")
            _ = try await store.enrol(course: course.id, person: "demo-site", institution: "COUNTY-A", by: "demo-admin")
            _ = try await store.markStudied(
                course: course.id, person: "demo-site", personName: "demo-site", caseID: cases[0])
        }
        _ = try await store.openAction(
            year: year, institution: nil, indicator: IndicatorCatalog.consultations.key,
            description: "走访县级医院，培训申请流程（演示）Visit the county hospitals and train their staff in filing requests (demo)",
            owner: "demo-admin", due: Date().addingTimeInterval(30 * 86_400), by: "demo-admin")
    }
}
