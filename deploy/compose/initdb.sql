-- The application database beside Dagster's own (POSTGRES_DB creates that one).
CREATE DATABASE shorts;
