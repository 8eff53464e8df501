DROP TABLE daily_totals;
DROP TABLE region_data;
DROP TABLE user_sessions;
DROP TABLE order_items;
