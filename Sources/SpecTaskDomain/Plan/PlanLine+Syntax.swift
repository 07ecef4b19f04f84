// Recognisers for the markdown shapes plans use. Each answers "is this line an X, and
// what are its parts?" and knows nothing about where in the plan the line sits.

/// A `#`…`######` heading.
struct PlanHeading {
    var level: Int
    var text: Substring
}

/// A task line of the headings family: `## Task 3: Title`, `## 3. Title`, `**Task 3: Title**`.
struct PlanTaskLine {
    var number: Int
    var title: Substring
}

/// A markdown task-list item: `- [ ] 1. Title`, `- [x] 2.2 Title`, `- [~] Title`.
struct PlanCheckbox {
    var state: ChecklistItem.State
    /// The number as written without a trailing dot ("1", "1.1"), when the title starts with one.
    var number: Substring?
    var title: Substring

    /// The parts of ``number``, e.g. [1, 1] for "1.1".
    var numberParts: [Substring] {
        number.map { $0.split(separator: ".") } ?? []
    }
}

/// The fields a headings-family task body may hold.
enum PlanField {
    case description
    case acceptanceCriteria
    case effort
    case dependsOn

    /// Field names as written, lowercased.
    static let namesByLowercasedName: [String: PlanField] = [
        "description": .description,
        "acceptance criteria": .acceptanceCriteria,
        "acceptance": .acceptanceCriteria,
        "effort": .effort,
        "depends on": .dependsOn,
        "depends": .dependsOn,
        "dependencies": .dependsOn,
    ]
}

extension PlanLine {
    /// The line as an ATX heading.
    var heading: PlanHeading? {
        guard !isCode, content.first == "#" else { return nil }
        let hashes = content.prefix(while: { $0 == "#" })
        let rest = content.dropFirst(hashes.count)
        guard hashes.count <= 6, rest.isEmpty || rest.first!.isWhitespace else { return nil }
        // Drop an optional closing sequence: "## Title ##".
        var text = rest.trimmed()
        let closing = text.reversed().prefix(while: { $0 == "#" }).count
        if closing > 0 {
            let beforeClosing = text.dropLast(closing)
            if beforeClosing.isEmpty || beforeClosing.last!.isWhitespace { text = beforeClosing.trimmed() }
        }
        return PlanHeading(level: hashes.count, text: text)
    }

    /// The line as a headings-family task: any heading that names a task, or a top-level
    /// `Task N: Title` line (bold or not).
    var headingTask: PlanTaskLine? {
        if let heading {
            return Self.taskLine(heading.text, separatorRequired: false)
        }
        guard !isCode, indent == 0, content.trimming(emphasisMarkers).hasPrefixIgnoringCase("task") else {
            return nil
        }
        return Self.taskLine(content, separatorRequired: true)
    }

    /// The line as a top-level numbered item: `1. Title` or `1) Title`.
    var numberedItem: PlanTaskLine? {
        guard !isCode, indent == 0 else { return nil }
        let rest = content.splitLeadingDigits().rest
        guard let number = content.leadingInteger, let separator = rest.first, separator == "." || separator == ")"
        else { return nil }
        let afterSeparator = rest.dropFirst()
        guard let space = afterSeparator.first, space.isWhitespace else { return nil }
        let title = afterSeparator.trimmed()
        return title.isEmpty ? nil : PlanTaskLine(number: number, title: title)
    }

    /// The line as a task-list item.
    var checkbox: PlanCheckbox? {
        guard !isCode, let afterBullet = Self.afterBullet(content), afterBullet.first == "[" else { return nil }
        let box = afterBullet.prefix(3)
        guard box.count == 3, box.last == "]" else { return nil }
        let state: ChecklistItem.State
        switch box.dropFirst().first! {
        case " ": state = .pending
        case "~": state = .inProgress
        case "x", "X": state = .done
        default: return nil
        }
        var rest = afterBullet.dropFirst(3)
        // Kiro marks optional sub-tasks with `- [ ]*`; the marker carries nothing we keep.
        if rest.first == "*" { rest = rest.dropFirst() }
        guard rest.isEmpty || rest.first!.isWhitespace else { return nil }
        rest = rest.trimmed()

        let token = rest.prefix(while: { !$0.isWhitespace })
        let number = token.last == "." ? token.dropLast() : token
        let parts = number.split(separator: ".", omittingEmptySubsequences: false)
        let isNumber =
            !number.isEmpty
            && parts.allSatisfy { !$0.isEmpty && $0.count <= 9 && $0.allSatisfy { $0.isASCII && $0.isNumber } }
        guard isNumber else { return PlanCheckbox(state: state, number: nil, title: rest) }
        return PlanCheckbox(state: state, number: number, title: rest.dropFirst(token.count).trimmed())
    }

    /// The text of a `-`, `*` or `+` bullet, or `nil` when the line is not one.
    var bulletText: Substring? {
        isCode ? nil : Self.afterBullet(content)
    }

    /// The references of a `_Requirements: 1.1, 2.3_` line (bulleted or not).
    var requirements: [String]? {
        guard !isCode else { return nil }
        let text = (Self.afterBullet(content) ?? content).trimming(emphasisMarkers).trimmed()
        guard text.hasPrefixIgnoringCase("requirement") else { return nil }
        guard let colon = text.prefix(16).firstIndex(of: ":") else { return nil }
        let name = text[..<colon].trimming(emphasisMarkers).trimmed().lowercased()
        guard name == "requirements" || name == "requirement" else { return nil }
        return text[text.index(after: colon)...]
            .split(separator: ",")
            .map { String($0.trimming(emphasisMarkers.union([" ", "\t"]))) }
            .filter { !$0.isEmpty }
    }

    /// The line as a `Name: value` field of a headings-family task (`**Effort:** small` and
    /// `- Effort: small` work too).
    var field: (field: PlanField, value: Substring)? {
        guard !isCode else { return nil }
        let text = Self.afterBullet(content) ?? content
        // Field names are short; looking further would only cost time on long lines.
        guard let colon = text.prefix(32).firstIndex(of: ":") else { return nil }
        let name = text[..<colon].trimming(emphasisMarkers).trimmed().lowercased()
        guard let field = PlanField.namesByLowercasedName[name] else { return nil }
        // The value may start with the closing emphasis of `**Effort:**`.
        let value = text[text.index(after: colon)...].drop(while: { emphasisMarkers.contains($0) }).trimmed()
        return (field, value)
    }

    // MARK: - Helpers

    private static func afterBullet(_ content: Substring) -> Substring? {
        guard let bullet = content.first, bullet == "-" || bullet == "*" || bullet == "+" else { return nil }
        let rest = content.dropFirst()
        guard let space = rest.first, space.isWhitespace else { return nil }
        return rest.trimmedLeading()
    }

    /// Reads "Task 3: Title", "Task #3 - Title", "3. Title" (optionally wrapped in `**`).
    ///
    /// - Parameter separatorRequired: When `true`, "Task 3 Title" without `:`/`.`/`-` is not a task;
    ///   plain lines need that certainty, headings do not.
    private static func taskLine(_ text: Substring, separatorRequired: Bool) -> PlanTaskLine? {
        var rest = text.trimming(emphasisMarkers).trimmed()
        let namesTask = rest.hasPrefixIgnoringCase("task")
        if namesTask {
            rest = rest.dropFirst(4)
            guard let space = rest.first, space.isWhitespace || space == "#" else { return nil }
            rest = rest.trimmedLeading()
            if rest.first == "#" { rest = rest.dropFirst() }
        }
        guard let number = rest.leadingInteger else { return nil }
        rest = rest.splitLeadingDigits().rest
        let afterSpaces = rest.trimmedLeading()
        if let separator = afterSpaces.first, taskNumberSeparators.contains(separator) {
            // The closing `**` of "**Task 1:** Title" may follow the separator.
            let afterSeparator = afterSpaces.dropFirst().drop(while: { emphasisMarkers.contains($0) })
            // "1.2 Title" is a sub-task number, not "task 1" with title "2 Title".
            guard afterSeparator.isEmpty || afterSeparator.first!.isWhitespace else { return nil }
            rest = afterSeparator
        } else if separatorRequired || !namesTask {
            // "## 2024 roadmap" is not a task; "## Task 3 Title" is.
            return nil
        } else {
            guard rest.isEmpty || rest.first!.isWhitespace else { return nil }
        }
        return PlanTaskLine(number: number, title: rest.trimming(emphasisMarkers).trimmed())
    }
}
