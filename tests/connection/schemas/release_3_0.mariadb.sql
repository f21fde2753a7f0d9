CREATE TABLE `datasets` (
  `id` bigint(20) NOT NULL AUTO_INCREMENT,
  `name` varchar(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  `description` text NOT NULL,
  `label_set` longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL CHECK (json_valid(`label_set`)),
  `source_format` varchar(32) NOT NULL,
  `encoding` varchar(32) NOT NULL,
  `row_count` int(11) NOT NULL,
  `rejected_count` int(11) NOT NULL,
  `label_counts` longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL CHECK (json_valid(`label_counts`)),
  `sha256` char(64) NOT NULL,
  `created_at` datetime(6) NOT NULL,
  `updated_at` datetime(6) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `uq_datasets_name` (`name`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `labels` (
  `task_id` char(32) NOT NULL,
  `source_table` varchar(129) NOT NULL,
  `source_id` bigint(20) NOT NULL,
  `model` varchar(100) NOT NULL,
  `label` varchar(100) NOT NULL,
  `score` double NOT NULL,
  `created_at` datetime NOT NULL,
  UNIQUE KEY `uq_labels_task_id_source_table_source_id_model_label` (`task_id`,`source_table`,`source_id`,`model`,`label`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `model_names` (
  `name` varchar(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  `last_version` int(11) NOT NULL,
  PRIMARY KEY (`name`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `models` (
  `id` bigint(20) NOT NULL AUTO_INCREMENT,
  `name` varchar(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  `version` int(11) NOT NULL,
  `kind` varchar(32) NOT NULL,
  `params` longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL CHECK (json_valid(`params`)),
  `blob` longblob NOT NULL,
  `sha256` char(64) NOT NULL,
  `signature` char(64) NOT NULL,
  `labels` longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL CHECK (json_valid(`labels`)),
  `library_versions` longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL CHECK (json_valid(`library_versions`)),
  `created_at` datetime(6) NOT NULL,
  `task_id` char(32) DEFAULT NULL,
  `dataset_id` bigint(20) DEFAULT NULL,
  `dataset_sha256` char(64) DEFAULT NULL,
  `rule_set_id` bigint(20) DEFAULT NULL,
  `pattern_set` longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT NULL CHECK (json_valid(`pattern_set`)),
  `training_key` char(64) DEFAULT NULL,
  `metrics` longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT NULL CHECK (json_valid(`metrics`)),
  `details` longblob DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `uq_models_name_version` (`name`,`version`),
  KEY `ix_models_training_key` (`training_key`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `pattern_sets` (
  `id` bigint(20) NOT NULL AUTO_INCREMENT,
  `name` varchar(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  `description` text NOT NULL,
  `patterns` longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL CHECK (json_valid(`patterns`)),
  `created_at` datetime(6) NOT NULL,
  `updated_at` datetime(6) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `uq_pattern_sets_name` (`name`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `rule_sets` (
  `id` bigint(20) NOT NULL AUTO_INCREMENT,
  `name` varchar(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  `description` text NOT NULL,
  `rule_count` int(11) NOT NULL,
  `created_at` datetime(6) NOT NULL,
  `updated_at` datetime(6) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `uq_rule_sets_name` (`name`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `task_log` (
  `id` bigint(20) NOT NULL AUTO_INCREMENT,
  `task_id` char(32) NOT NULL,
  `at` datetime(6) NOT NULL,
  `level` varchar(8) NOT NULL,
  `message` mediumtext NOT NULL,
  PRIMARY KEY (`id`),
  KEY `ix_task_log_task_id_id` (`task_id`,`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `tasks` (
  `id` char(32) NOT NULL,
  `type` varchar(32) NOT NULL,
  `status` varchar(16) NOT NULL,
  `config` longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL CHECK (json_valid(`config`)),
  `total` bigint(20) DEFAULT NULL,
  `abort_requested` tinyint(1) NOT NULL,
  `error` mediumtext DEFAULT NULL,
  `stats` longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT NULL CHECK (json_valid(`stats`)),
  `created_at` datetime(6) NOT NULL,
  `started_at` datetime(6) DEFAULT NULL,
  `finished_at` datetime(6) DEFAULT NULL,
  PRIMARY KEY (`id`),
  KEY `ix_tasks_status` (`status`),
  KEY `ix_tasks_created_at` (`created_at`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `chunks` (
  `id` bigint(20) NOT NULL AUTO_INCREMENT,
  `task_id` char(32) NOT NULL,
  `source_table` varchar(129) NOT NULL,
  `lo` bigint(20) NOT NULL,
  `hi` bigint(20) NOT NULL,
  `checkpoint` bigint(20) NOT NULL,
  `status` varchar(16) NOT NULL,
  `attempts` int(11) NOT NULL,
  `rows_read` bigint(20) NOT NULL,
  `rows_excluded` bigint(20) NOT NULL,
  `rows_labeled` bigint(20) NOT NULL,
  `label_counts` longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL CHECK (json_valid(`label_counts`)),
  `peak_rss` bigint(20) NOT NULL,
  `error` mediumtext DEFAULT NULL,
  `heartbeat_at` datetime(6) DEFAULT NULL,
  PRIMARY KEY (`id`),
  KEY `ix_chunks_task_id_status` (`task_id`,`status`),
  CONSTRAINT `fk_chunks_task_id_tasks` FOREIGN KEY (`task_id`) REFERENCES `tasks` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `dataset_rows` (
  `id` bigint(20) NOT NULL AUTO_INCREMENT,
  `dataset_id` bigint(20) NOT NULL,
  `line_no` int(11) NOT NULL,
  `split` varchar(8) NOT NULL,
  `text` mediumtext NOT NULL,
  `labels` longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL CHECK (json_valid(`labels`)),
  PRIMARY KEY (`id`),
  UNIQUE KEY `uq_dataset_rows_dataset_id_line_no` (`dataset_id`,`line_no`),
  KEY `ix_dataset_rows_dataset_id_split_id` (`dataset_id`,`split`,`id`),
  CONSTRAINT `fk_dataset_rows_dataset_id_datasets` FOREIGN KEY (`dataset_id`) REFERENCES `datasets` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `rules` (
  `id` bigint(20) NOT NULL AUTO_INCREMENT,
  `rule_set_id` bigint(20) NOT NULL,
  `position` int(11) NOT NULL,
  `label` varchar(100) NOT NULL,
  `pattern` text NOT NULL,
  `kind` varchar(16) NOT NULL,
  `weight` double NOT NULL,
  PRIMARY KEY (`id`),
  KEY `ix_rules_rule_set_id_position` (`rule_set_id`,`position`),
  CONSTRAINT `fk_rules_rule_set_id_rule_sets` FOREIGN KEY (`rule_set_id`) REFERENCES `rule_sets` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
