-- Reserved: migration 0006 belongs to another branch of the same round
-- (the lead keeps that branch's file at merge and drops this one). It does
-- nothing, so that 0007 applies in sequence on this branch alone.
SELECT 1;
