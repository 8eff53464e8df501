-- Child tables with composite foreign keys to the composite keys of their parents.
CREATE TABLE shipments (
    order_id BIGINT NOT NULL,
    product_id BIGINT NOT NULL,
    shipment_id BIGINT NOT NULL,
    carrier TEXT NOT NULL,
    shipped_on DATE NOT NULL,
    PRIMARY KEY (order_id, product_id, shipment_id),
    CONSTRAINT fk_shipments_order_items FOREIGN KEY (order_id, product_id)
        REFERENCES order_items (order_id, product_id)
);

CREATE TABLE session_events (
    user_id UUID NOT NULL,
    session_id UUID NOT NULL,
    event_id BIGINT NOT NULL,
    kind TEXT NOT NULL,
    PRIMARY KEY (user_id, session_id, event_id),
    CONSTRAINT fk_session_events_user_sessions FOREIGN KEY (user_id, session_id)
        REFERENCES user_sessions (user_id, session_id)
);
