CREATE TABLE tasks (
	id CHAR(32) NOT NULL, 
	type VARCHAR(32) NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	config JSON NOT NULL, 
	total BIGINT, 
	abort_requested BOOLEAN NOT NULL, 
	error TEXT, 
	stats JSON, 
	created_at DATETIME NOT NULL, 
	started_at DATETIME, 
	finished_at DATETIME, 
	CONSTRAINT pk_tasks PRIMARY KEY (id)
);

CREATE INDEX ix_tasks_status ON tasks (status);

CREATE INDEX ix_tasks_created_at ON tasks (created_at);

CREATE TABLE task_log (
	id INTEGER NOT NULL, 
	task_id CHAR(32) NOT NULL, 
	at DATETIME NOT NULL, 
	level VARCHAR(8) NOT NULL, 
	message TEXT NOT NULL, 
	CONSTRAINT pk_task_log PRIMARY KEY (id)
);

CREATE INDEX ix_task_log_task_id_id ON task_log (task_id, id);

CREATE TABLE labels (
	task_id CHAR(32) NOT NULL, 
	source_table VARCHAR(129) NOT NULL, 
	source_id BIGINT NOT NULL, 
	model VARCHAR(100) NOT NULL, 
	label VARCHAR(100) NOT NULL, 
	score DOUBLE NOT NULL, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT uq_labels_task_id_source_table_source_id_model_label UNIQUE (task_id, source_table, source_id, model, label)
);

CREATE TABLE models (
	id INTEGER NOT NULL, 
	name VARCHAR(100) NOT NULL, 
	version INTEGER NOT NULL, 
	kind VARCHAR(32) NOT NULL, 
	params JSON NOT NULL, 
	blob BLOB NOT NULL, 
	sha256 CHAR(64) NOT NULL, 
	signature CHAR(64) NOT NULL, 
	labels JSON NOT NULL, 
	library_versions JSON NOT NULL, 
	created_at DATETIME NOT NULL, 
	task_id CHAR(32), 
	dataset_id BIGINT, 
	dataset_sha256 CHAR(64), 
	rule_set_id BIGINT, 
	pattern_set JSON, 
	training_key CHAR(64), 
	metrics JSON, 
	details BLOB, 
	CONSTRAINT pk_models PRIMARY KEY (id), 
	CONSTRAINT uq_models_name_version UNIQUE (name, version)
);

CREATE INDEX ix_models_training_key ON models (training_key);

CREATE TABLE model_names (
	name VARCHAR(100) NOT NULL, 
	last_version INTEGER NOT NULL, 
	CONSTRAINT pk_model_names PRIMARY KEY (name)
);

CREATE TABLE datasets (
	id INTEGER NOT NULL, 
	name VARCHAR(100) NOT NULL, 
	description TEXT NOT NULL, 
	label_set JSON NOT NULL, 
	source_format VARCHAR(32) NOT NULL, 
	encoding VARCHAR(32) NOT NULL, 
	row_count INTEGER NOT NULL, 
	rejected_count INTEGER NOT NULL, 
	label_counts JSON NOT NULL, 
	sha256 CHAR(64) NOT NULL, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	CONSTRAINT pk_datasets PRIMARY KEY (id), 
	CONSTRAINT uq_datasets_name UNIQUE (name)
);

CREATE TABLE rule_sets (
	id INTEGER NOT NULL, 
	name VARCHAR(100) NOT NULL, 
	description TEXT NOT NULL, 
	rule_count INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	CONSTRAINT pk_rule_sets PRIMARY KEY (id), 
	CONSTRAINT uq_rule_sets_name UNIQUE (name)
);

CREATE TABLE pattern_sets (
	id INTEGER NOT NULL, 
	name VARCHAR(100) NOT NULL, 
	description TEXT NOT NULL, 
	patterns JSON NOT NULL, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	CONSTRAINT pk_pattern_sets PRIMARY KEY (id), 
	CONSTRAINT uq_pattern_sets_name UNIQUE (name)
);

CREATE TABLE chunks (
	id INTEGER NOT NULL, 
	task_id CHAR(32) NOT NULL, 
	source_table VARCHAR(129) NOT NULL, 
	lo BIGINT NOT NULL, 
	hi BIGINT NOT NULL, 
	checkpoint BIGINT NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	attempts INTEGER NOT NULL, 
	rows_read BIGINT NOT NULL, 
	rows_excluded BIGINT NOT NULL, 
	rows_labeled BIGINT NOT NULL, 
	label_counts JSON NOT NULL, 
	peak_rss BIGINT NOT NULL, 
	error TEXT, 
	heartbeat_at DATETIME, 
	CONSTRAINT pk_chunks PRIMARY KEY (id), 
	CONSTRAINT fk_chunks_task_id_tasks FOREIGN KEY(task_id) REFERENCES tasks (id) ON DELETE CASCADE
);

CREATE INDEX ix_chunks_task_id_status ON chunks (task_id, status);

CREATE TABLE dataset_rows (
	id INTEGER NOT NULL, 
	dataset_id BIGINT NOT NULL, 
	line_no INTEGER NOT NULL, 
	split VARCHAR(8) NOT NULL, 
	text TEXT NOT NULL, 
	labels JSON NOT NULL, 
	CONSTRAINT pk_dataset_rows PRIMARY KEY (id), 
	CONSTRAINT uq_dataset_rows_dataset_id_line_no UNIQUE (dataset_id, line_no), 
	CONSTRAINT fk_dataset_rows_dataset_id_datasets FOREIGN KEY(dataset_id) REFERENCES datasets (id) ON DELETE CASCADE
);

CREATE INDEX ix_dataset_rows_dataset_id_split_id ON dataset_rows (dataset_id, split, id);

CREATE TABLE rules (
	id INTEGER NOT NULL, 
	rule_set_id BIGINT NOT NULL, 
	position INTEGER NOT NULL, 
	label VARCHAR(100) NOT NULL, 
	pattern TEXT NOT NULL, 
	kind VARCHAR(16) NOT NULL, 
	weight DOUBLE NOT NULL, 
	CONSTRAINT pk_rules PRIMARY KEY (id), 
	CONSTRAINT fk_rules_rule_set_id_rule_sets FOREIGN KEY(rule_set_id) REFERENCES rule_sets (id) ON DELETE CASCADE
);

CREATE INDEX ix_rules_rule_set_id_position ON rules (rule_set_id, position);
