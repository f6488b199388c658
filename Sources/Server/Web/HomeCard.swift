import Platform

/// A card of the home page: one thing some roles can do, with where to go. A card without a place is a workflow that has
/// not arrived yet; it is shown as such, without a link.
public struct HomeCard: Sendable {
    /// Stable: the card's `data-card` attribute.
    public let id: String
    /// Locale keys of its title and text (a workflow's own locale file may hold them).
    public let titleKey: String
    public let textKey: String
    /// Where it goes; nil while the workflow is not there yet.
    public let href: String?
    /// Who sees it: anyone holding one of these roles.
    public let roles: Set<Role>

    public init(id: String, titleKey: String? = nil, textKey: String? = nil, href: String?, roles: Set<Role>) {
        self.id = id
        self.titleKey = titleKey ?? "home.cards.\(id).title"
        self.textKey = textKey ?? "home.cards.\(id).text"
        self.href = href
        self.roles = roles
    }

    /// Every card, in the order the home page shows them. A workflow adds its cards here (or gives a planned one its
    /// `href`), with the strings in its own locale file.
    public static let all: [HomeCard] = [
        HomeCard(id: "studies", href: "/studies", roles: [.site, .reader, .curator, .supervisor, .admin]),
        HomeCard(id: "upload", href: "/upload", roles: [.site, .reader, .curator, .admin]),
        HomeCard(id: "consultations", href: "/consultations", roles: [.site]),
        HomeCard(id: "worklist", href: "/worklist", roles: [.reader]),
        HomeCard(id: "laboratory", href: "/lab", roles: [.site, .reader, .supervisor, .admin]),
        HomeCard(id: "teaching", href: "/library", roles: [.reader, .curator, .student, .supervisor, .admin]),
        HomeCard(
            id: "exams", titleKey: "training.card.title", textKey: "training.card.text", href: "/training", roles: [.student, .curator]),
        HomeCard(id: "practice", href: nil, roles: [.student]),
        HomeCard(id: "trainees", href: nil, roles: [.supervisor]),
        HomeCard(id: "indicators", href: "/programme", roles: [.admin]),
        HomeCard(id: "education", href: "/ce", roles: [.site, .student, .admin]),
        HomeCard(id: "health", href: "/health-records", roles: [.healthManager, .site, .admin]),
        HomeCard(id: "admin", href: "/admin", roles: [.admin]),
    ]

    /// The cards a person with `roles` sees.
    static func cards(for roles: Set<Role>, from all: [HomeCard] = HomeCard.all) -> [HomeCard] {
        all.filter { !$0.roles.isDisjoint(with: roles) }
    }
}
