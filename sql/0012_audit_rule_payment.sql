-- Which rules come from the payments (audit_payment_cases(), what is paid against what is due)
-- rather than from the state of posts and persons (audit_state_violation). The report runs the
-- two halves apart and reads the split here, so a rule added to either half is found by
-- `audit violations --rule` once it is listed with its flag.
ALTER TABLE audit_rule ADD COLUMN from_payments boolean NOT NULL DEFAULT false;
UPDATE audit_rule SET from_payments = true WHERE code IN ('PAID_NOT_DUE', 'UNDERPAID', 'UNPAID_LATE');
