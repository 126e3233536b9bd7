output "repository_name" {
  description = "Name of the repository."
  value       = aws_ecr_repository.this.name
}

output "repository_arn" {
  description = "ARN of the repository (feed it to iam.ecr_repository_arns)."
  value       = aws_ecr_repository.this.arn
}

output "repository_url" {
  description = "Repository URL; append `:<tag>` for the container image."
  value       = aws_ecr_repository.this.repository_url
}
