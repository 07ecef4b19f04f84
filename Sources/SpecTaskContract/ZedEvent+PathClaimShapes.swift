import SpecTaskDomain

// The wire contract of the path claim events (ZedEvent+PathClaims in the domain has their values).

extension ZedEvent {
    static let pathClaimShapes: [CommandShape] = [
        .zedEvent(
            "paths_claimed",
            ZedPathsClaimed.self,
            ZedEvent.pathsClaimed,
            [
                .required("instanceID", .identifier),
                .required("workSessionID", .identifier),
                .required("claimID", .identifier),
                .required(
                    "paths",
                    .array(of: .string(1...ClaimLimits.pathLength), maxCount: ClaimLimits.pathsPerClaim)
                ),
                .optional("reason", .text),
            ]
        ),
        .zedEvent(
            "paths_released",
            ZedPathsReleased.self,
            ZedEvent.pathsReleased,
            [
                .required("instanceID", .identifier),
                .required("workSessionID", .identifier),
                .optional("claimIDs", .array(of: .identifier, maxCount: ClaimLimits.claimsPerRelease)),
            ]
        ),
    ]
}
