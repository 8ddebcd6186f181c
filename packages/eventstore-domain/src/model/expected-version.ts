/**
 * `expected_version` of an append (SPEC §6): `n ≥ 0` = the stream's current version must be exactly
 * n (0 = no events yet, so a missing stream matches 0); the two negative values are sentinels.
 */
export type ExpectedVersion = number;

/** The stream must not exist yet. */
export const EXPECT_NO_STREAM = -1;
/** Append whatever the current version is (extension). */
export const EXPECT_ANY = -2;
