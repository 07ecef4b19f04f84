// The sample plans of `reference/plans/`, copied verbatim as string literals so the test target
// needs no resources. Keep them byte-for-byte equal to the originals: the literals are indented
// by 8 spaces (which Swift strips), and the blank line before each closing delimiter is the
// file's final newline. `ReferencePlanTests` checks the byte counts.

/// The reference implementation plans.
enum PlanFixtures {
    /// `auth-headings.md`
    static let authHeadings = #"""
        # Implementation plan: user authentication

        ## Task 1: Database schema
        Description: Tables for users, credentials and sessions, with migrations.
        Acceptance criteria: migrations apply on an empty database and roll back cleanly;
        unique index on the normalised email.
        Effort: small

        ## Task 2: Backend API
        Description: Sign-up, sign-in, sign-out and token refresh endpoints.
        Acceptance criteria: every endpoint has request validation and tests for the failure paths.
        Effort: large
        Depends on: 1

        ## Task 3: Frontend UI
        Description: Sign-in and sign-up forms, session expiry handling.
        Effort: medium
        Depends on: 2

        ## Task 4: Security hardening
        Description: Rate limiting, password hashing parameters, lockout after repeated failures.
        Acceptance criteria: brute force of one account is throttled; audit log entries exist.
        Effort: medium
        Depends on: 2

        ## Task 5: End-to-end tests
        Description: Browser tests for the full sign-up → sign-in → sign-out journey.
        Effort: small
        Depends on: 3, 4

        """#

    /// `free-form.md`
    static let freeForm = #"""
        Add a "Contact us" link to the footer that opens the existing contact page.
        No other changes are needed; the page already exists and is tested.

        """#

    /// `invalid-cycle.md`
    static let invalidCycle = #"""
        ## Task 1: Write the parser
        Depends on: 2

        ## Task 2: Write the tests for the parser
        Depends on: 1

        """#

    /// `kiro-tasks.md`
    static let kiroTasks = #"""
        # Implementation Plan

        - [ ] 1. Set up the profiling harness
          - [ ] 1.1 Add request timing middleware to the dashboard API
            - Record p50/p95 per endpoint
            - _Requirements: 1.1_
          - [ ] 1.2 Capture slow query log for the dashboard queries
            - _Requirements: 1.2, 2.1_

        - [ ] 2. Optimise database access (P)
          - [ ] 2.1 Add composite index for the activity feed query
            - _Requirements: 2.1_
          - [x] 2.2 Remove N+1 queries in the widgets loader
            - _Requirements: 2.2_

        - [ ] 3. Optimise the frontend bundle (P)
          - [ ] 3.1 Split the charting library into a lazy chunk
          - [~] 3.2 Memoise the widget grid
            - _Requirements: 3.1_

        - [ ] 4. Verify the improvement
          - Compare before/after timings against the targets in the requirements
          - _Requirements: 1.1, 2.1, 3.1_

        """#

    /// `numbered-simple.md`
    static let numberedSimple = #"""
        Plan for the contact form:

        1. Add the contact form component with name, email and message fields
        2. Add a backend endpoint that validates the form and queues an email
        3. Add tests for validation errors and the happy path

        """#
}
