import SpecTaskDomain

/// The `doc` of a `spec_tasks` row: the spec task's members, and beside them the task's path claims.
///
/// Claims live in the task's own row rather than a table of their own: they are read and changed only under
/// the task's row lock, with the rest of its state, and are few. A row without `pathClaims` (every row written
/// before claims existed, and every task with none) has no claims.
struct SpecTaskDocument: Codable {
    var task: SpecTask
    var pathClaims: [PathClaim]

    private enum CodingKeys: String, CodingKey {
        case pathClaims
    }

    init(task: SpecTask, pathClaims: [PathClaim]) {
        self.task = task
        self.pathClaims = pathClaims
    }

    init(from decoder: any Decoder) throws {
        task = try SpecTask(from: decoder)
        pathClaims =
            try decoder.container(keyedBy: CodingKeys.self).decodeIfPresent([PathClaim].self, forKey: .pathClaims) ?? []
    }

    func encode(to encoder: any Encoder) throws {
        try task.encode(to: encoder)
        guard !pathClaims.isEmpty else { return }
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(pathClaims, forKey: .pathClaims)
    }
}
