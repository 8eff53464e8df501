-- The seed's three models, each with a composite primary key, plus a date-keyed table.
CREATE TABLE order_items (
    order_id BIGINT NOT NULL,
    product_id BIGINT NOT NULL,
    quantity INTEGER NOT NULL,
    PRIMARY KEY (order_id, product_id)
);

CREATE TABLE user_sessions (
    user_id UUID NOT NULL,
    session_id UUID NOT NULL,
    device TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, session_id)
);

CREATE TABLE region_data (
    country_code VARCHAR(8) NOT NULL,
    region_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    population BIGINT NOT NULL,
    PRIMARY KEY (country_code, region_id)
);

CREATE TABLE daily_totals (
    day DATE NOT NULL,
    country_code VARCHAR(8) NOT NULL,
    total BIGINT NOT NULL,
    PRIMARY KEY (day, country_code)
);
